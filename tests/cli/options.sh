#!/bin/sh
# The fieldlab program's command line: options, arg, exit statuses, the
# non-terminal prompt (-i over a pipe), environment variables. TAP output.
# Needs FIELDLAB (the built program).

: "${FIELDLAB:?FIELDLAB must name the fieldlab program}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fieldlab-options.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
unset FIELDLAB_INIT FIELDLAB_PATH LUA_INIT LUA_PATH LUA_CPATH

n=0
rc=0
# run CMD...: the command's stdout, stderr and status in $tmp/out, $tmp/err, $rc.
# Its input is $tmp/in (empty unless the test wrote it just before).
: > "$tmp/in"
run() {
  "$@" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  : > "$tmp/in"
}
# check DESCRIPTION CONDITION: one TAP line (CONDITION is shell code, eval'd);
# on failure, the last run's status and output as TAP comments.
check() {
  n=$((n + 1))
  if eval "$2"; then
    echo "ok $n - $1"
  else
    echo "not ok $n - $1"
    echo "# status $rc; stdout:"
    sed 's/^/#   /' "$tmp/out"
    echo "# stderr:"
    sed 's/^/#   /' "$tmp/err"
  fi
}
out_is() { [ "$(cat "$tmp/out")" = "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -e "$1" "$tmp/err"; }
err_starts() { head -n 1 "$tmp/err" | grep -q -e "^$1"; }
status_is() { [ "$rc" -eq "$1" ]; }
ok_with() { status_is 0 && out_is "$1"; }
tab=$(printf '\t')

# ---------------------------------------------------------------- info
run "$FIELDLAB" -v
check "-v: exit 0, a version line naming Lua, OpenBLAS and FFTW" \
  'status_is 0 && out_has "^fieldlab [0-9.]* (Lua 5\.4\.[0-9]*, OpenBLAS .*, FFTW .*)\$"'
run "$FIELDLAB" --version
check "--version is -v" 'status_is 0 && out_has "^fieldlab "'
run "$FIELDLAB" -v -e 'print("after")'
check "-v then -e runs the chunk" 'status_is 0 && [ "$(sed -n 2p "$tmp/out")" = after ]'

run "$FIELDLAB" -h
h_ok=0
for opt in --threads --seed --quiet -e -i -l -E -v -h -- FIELDLAB_INIT FIELDLAB_PATH FIELDLAB_NOHISTORY 'Exit status'; do
  grep -q -e " $opt" -e "^$opt" "$tmp/out" || { h_ok=1; echo "# -h does not mention $opt"; }
done
check "-h lists every option and environment variable on stdout, exit 0" \
  'status_is 0 && [ $h_ok -eq 0 ] && [ ! -s "$tmp/err" ]'
run "$FIELDLAB" --help
check "--help is -h" 'status_is 0 && out_has "--threads N"'

# ---------------------------------------------------------------- chunks
run "$FIELDLAB" -e 'print(1 + 2)'
check "-e runs a chunk" 'ok_with 3'
run "$FIELDLAB" -e 'x = 20' -e 'print(x + 1)'
check "several -e run in order" 'ok_with 21'
run "$FIELDLAB" '-eprint("glued")'
check "-e with its argument glued on" 'ok_with glued'
run "$FIELDLAB" -e 'print(arg[0], arg[1], arg[-1])'
check "without a script arg[0] is the program, as in lua5.4" \
  'ok_with "$FIELDLAB$tab-e${tab}nil"'

printf 'print(arg[0], arg[1], arg[2], arg[-1], arg[-2], #arg)\nprint(select("#", ...), ...)\n' > "$tmp/args.lua"
run "$FIELDLAB" --quiet "$tmp/args.lua" one two
check "a script gets arg[0], arg[1..], arg[-k] and ..." \
  'ok_with "$(printf "%s\tone\ttwo\t--quiet\t%s\t2\n2\tone\ttwo" "$tmp/args.lua" "$FIELDLAB")"'
run "$FIELDLAB" "$tmp/args.lua" -e x --seed
check "options after the script go to the script" \
  'status_is 0 && [ "$(sed -n 2p "$tmp/out")" = "3$tab-e${tab}x$tab--seed" ]'
run "$FIELDLAB" -- "$tmp/args.lua" a
check "-- ends the options" 'status_is 0 && [ "$(sed -n 2p "$tmp/out")" = "1${tab}a" ]'

printf 'print(arg[0], ...)\n' > "$tmp/in"
run "$FIELDLAB" - a b
check "- runs stdin with arguments" 'ok_with "-${tab}a${tab}b"'
printf 'print(1+1)' > "$tmp/in"
run "$FIELDLAB"
check "no arguments and stdin not a terminal: stdin is the script" 'ok_with 2'

mkdir "$tmp/mods"
echo 'return {x = 42}' > "$tmp/mods/mymod.lua"
run "$FIELDLAB" -e "package.path = '$tmp/mods/?.lua;' .. package.path" -l mymod -e 'print(mymod.x)'
check "-l mod after -e, in command-line order" 'ok_with 42'
run "$FIELDLAB" -e "package.path = '$tmp/mods/?.lua;' .. package.path" -l g=mymod -e 'print(g.x, mymod)'
check "-l g=mod sets global g" 'ok_with "42${tab}nil"'
run "$FIELDLAB" -l no_such_module_xyz
check "-l of a missing module: exit 1 with the fieldlab: prefix" \
  'status_is 1 && err_starts "fieldlab: module .no_such_module_xyz. not found"'

run "$FIELDLAB" -e 'print(type(fieldlab), type(help), type(array))'
check "the fieldlab modules are globals" 'ok_with "table${tab}function${tab}table"'

# ---------------------------------------------------------------- errors
printf 'local x = 1\nerror("boom")\n' > "$tmp/bad.lua"
run "$FIELDLAB" "$tmp/bad.lua"
check "an erroring script exits 1" 'status_is 1'
check "... with fieldlab: file:line: message on stderr" 'err_starts "fieldlab: $tmp/bad.lua:2: boom"'
check "... and a stack traceback" 'err_has "^stack traceback:"'
check "... and nothing on stdout" '[ ! -s "$tmp/out" ]'
run "$FIELDLAB" -e 'error(setmetatable({}, {__tostring = function() return "custom error" end}))'
check "an error object with __tostring: exit 1 and its text" \
  'status_is 1 && err_starts "fieldlab: custom error\$"'
run "$FIELDLAB" -e 'error({})'
check "a table error object without __tostring: exit 1" \
  'status_is 1 && err_starts "fieldlab: (error object is a table value)"'
run "$FIELDLAB" -e 'x ='
check "a syntax error in -e: exit 1" 'status_is 1 && err_starts "fieldlab: (command line):1:"'
run "$FIELDLAB" "$tmp/no-such-file.lua"
check "a missing script file: exit 1, cannot open" \
  'status_is 1 && err_starts "fieldlab: cannot open $tmp/no-such-file.lua"'
run "$FIELDLAB" -e 'os.exit(3)'
check "os.exit status passes through" 'status_is 3'

# ---------------------------------------------------------------- usage errors
usage2() {
  what=$1
  shift
  run "$FIELDLAB" "$@"
  check "$what: exit 2" \
    'status_is 2 && err_starts "fieldlab: " && err_has "fieldlab --help" && [ ! -s "$tmp/out" ]'
}
usage2 "unknown option -x" -x
usage2 "unknown long option --bogus" --bogus
usage2 "unknown option -ix" -ix
usage2 "-e without its argument" -e
usage2 "-l followed by an option" -l -i
usage2 "--threads without a value" --threads
usage2 "--threads abc" --threads abc -e 'print(1)'
usage2 "--threads 0" --threads 0 -e 'print(1)'
usage2 "--threads 2x" --threads 2x -e 'print(1)'
usage2 "--seed x" --seed x -e 'print(1)'
usage2 "--seed -1" --seed -1 -e 'print(1)'
usage2 "--quiet=1" --quiet=1
run "$FIELDLAB" --threads 2 -e 'print("t")'
check "--threads 2 is accepted" 'ok_with t'
run "$FIELDLAB" --threads=3 --seed=5 --quiet -e 'print("t")'
check "--threads=3 --seed=5 --quiet are accepted" 'ok_with t'

# ---------------------------------------------------------------- the prompt over a pipe
printf '1 + 2\n' > "$tmp/in"
run "$FIELDLAB" -i
check "-i over a pipe prints expression values" 'status_is 0 && out_has "^> 3\$"'
printf 'function f()\nreturn 3\nend\nprint(f())\n' > "$tmp/in"
run "$FIELDLAB" -i
check "-i over a pipe: multi-line continuation with >> prompts" \
  'status_is 0 && out_has "^> >> >> > 3\$"'
printf 'x = 5\nx * 2, "s", nil\n=x\n' > "$tmp/in"
run "$FIELDLAB" -i
check "-i: globals persist, several values print, =x" \
  'status_is 0 && out_has "^> > 10${tab}s${tab}nil\$" && out_has "^> 5\$"'
printf 'error("e1")\nprint("after")\nlocal t = {\n' > "$tmp/in"
run "$FIELDLAB" -i
check "-i: errors are reported and the loop goes on; exit 0 at end of input" \
  'status_is 0 && err_starts "fieldlab: stdin:1: e1" && out_has after && err_has "<eof>"'
printf '_PROMPT = "P: "\n1\n' > "$tmp/in"
run "$FIELDLAB" -i
check "-i: _PROMPT sets the prompt" 'out_has "^> P: 1\$"'
echo 'y = 7' > "$tmp/sety.lua"
printf 'y\n' > "$tmp/in"
run "$FIELDLAB" -i "$tmp/sety.lua"
check "-i after a script sees its globals" 'out_has "^> 7\$"'
printf 'while true do end\n' > "$tmp/in"
run "$FIELDLAB" -i "$tmp/bad.lua"
check "-i after a failing script: exit 1 without the prompt" 'status_is 1 && [ ! -s "$tmp/out" ]'

# ---------------------------------------------------------------- settings
run "$FIELDLAB" --seed 7 -e 'print(array.randn(3):sum())'
s7=$(cat "$tmp/out")
run "$FIELDLAB" --seed 7 -e 'print(array.randn(3):sum())'
s7b=$(cat "$tmp/out")
run "$FIELDLAB" --seed 8 -e 'print(array.randn(3):sum())'
s8=$(cat "$tmp/out")
check "--seed 7 twice gives the same draws, --seed 8 others" \
  '[ -n "$s7" ] && [ "$s7" = "$s7b" ] && [ "$s7" != "$s8" ]'

# ---------------------------------------------------------------- environment
run env FIELDLAB_INIT='x_init = 5' "$FIELDLAB" -e 'print(x_init)'
check "FIELDLAB_INIT runs before -e" 'ok_with 5'
echo 'x_init = "file"' > "$tmp/init.lua"
run env FIELDLAB_INIT="@$tmp/init.lua" "$FIELDLAB" -e 'print(x_init)'
check "FIELDLAB_INIT=@file runs the file" 'ok_with file'
run env FIELDLAB_INIT='x_init = 5' "$FIELDLAB" -E -e 'print(x_init)'
check "-E ignores FIELDLAB_INIT" 'ok_with nil'
run env FIELDLAB_INIT='error("init failed")' "$FIELDLAB" -e 'print("not reached")'
check "an error in FIELDLAB_INIT: exit 1" \
  'status_is 1 && err_starts "fieldlab: FIELDLAB_INIT:1: init failed" && [ ! -s "$tmp/out" ]'
mkdir -p "$tmp/fl/fieldlab"
echo 'return {export = function(env) env.fake_marker = "fake" end}' > "$tmp/fl/fieldlab/init.lua"
run env FIELDLAB_PATH="$tmp/fl" "$FIELDLAB" -e 'print(fake_marker)'
check "FIELDLAB_PATH replaces the built-in modules" 'ok_with fake'
run env FIELDLAB_PATH="$tmp/fl" "$FIELDLAB" -E -e 'print(fake_marker, type(fieldlab))'
check "-E ignores FIELDLAB_PATH" 'ok_with "nil${tab}table"'
run env LUA_PATH="$tmp/mods/?.lua" "$FIELDLAB" -l mymod -e 'print(mymod.x)'
check "LUA_PATH is honoured" 'ok_with 42'
run env LUA_PATH="$tmp/mods/?.lua" "$FIELDLAB" -E -l mymod -e 'print(mymod.x)'
check "-E ignores LUA_PATH" 'status_is 1'

echo "1..$n"
