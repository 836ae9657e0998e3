#!/bin/sh
# `require "fieldlab"` from a stock lua5.4 after `make install`: install into a
# scratch DESTDIR, then load the module with the installed paths only.
. "$top_srcdir/tests/tap.sh"
set -u
tap_plan 4
lua=$(command -v lua5.4 || true)
core="$top_builddir/src/.libs/core.so"
if [ -z "$lua" ]; then
  for i in 1 2 3 4; do tap_skip "stock lua5.4 module $i" "no lua5.4"; done
  exit 0
fi
tap_scratch

# 1. the module must not carry its own copy of the Lua VM
if readelf -d "$core" 2>/dev/null | grep NEEDED | grep -q 'liblua'; then r=1; else r=0; fi
tap_ok $r "fieldlab/core.so does not link liblua"

# 2. make install into a scratch root
${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$scratch/root" >"$scratch/install.log" 2>&1
r=$?
so=$(find "$scratch/root" -name core.so -path '*fieldlab*' | head -n 1)
init=$(find "$scratch/root" -name init.lua -path '*fieldlab*' | head -n 1)
[ $r -eq 0 ] && [ -n "$so" ] && [ -n "$init" ] && [ -z "$(find "$scratch/root" -name '*.la')" ]
tap_ok $? "make install puts fieldlab/core.so and fieldlab/init.lua in the Lua paths (no .la)"
[ -n "$so" ] || tap_diag "$(cat "$scratch/install.log")"
cmoddir=$(dirname "$(dirname "$so")")
# A sanitizer build's module needs the sanitizer runtimes loaded first in
# lua5.4 (whose own process-lifetime allocations are no leaks of ours).
preload=""
if readelf -d "$core" 2>/dev/null | grep NEEDED | grep -q 'libasan'; then
  cc=${CC:-gcc}
  preload="$($cc -print-file-name=libasan.so) $($cc -print-file-name=libubsan.so)"
fi
runlua() {
  LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    LUA_CPATH="$cmoddir/?.so" LUA_PATH="$lmoddir/?.lua;$lmoddir/?/init.lua" "$lua" "$@"
}
lmoddir=$(dirname "$(dirname "$init")")

# 3. the same API from a stock interpreter
out=$(cd "$scratch" && runlua -e '
local fl = require "fieldlab"
fl.export(_G)
local a = array.from{{2, 1}, {1, 3}}
local x = array.solve(a, array.from{3, 5})
io.write(string.format("%.12g %.12g|", x[1], x[2]))
io.write(tostring(array.eye(2)), "|", fieldlab.version())
' 2>&1)
[ "$out" = "0.8 1.4|array([[1., 0.],
       [0., 1.]])|$("$FIELDLAB" -e 'io.write(fieldlab.version())')" ]
tap_ok $? "require \"fieldlab\" in lua5.4 gives the same modules, printing and version"
tap_diag "$out"

# 4. help() works there too (the docs are compiled into core.so)
out=$(cd "$scratch" && runlua -e '
require("fieldlab").export(_G); help(array.solve)' 2>&1)
case "$out" in *"array.solve(A, b)"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "help() in lua5.4 finds the documentation"
[ $r -eq 0 ] || tap_diag "$out"
