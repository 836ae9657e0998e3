#!/bin/sh
# The man pages: they exist, lint clean (groff -man -ww -z prints nothing on
# stderr; groff exits 0 even on warnings), fieldlab(1) describes every option
# that `fieldlab -h` lists, fieldlab-lua(7) has every entry of the API docs,
# mkman.lua is reproducible, and man(1) renders both pages. TAP output.
#
# Environment (set by make check): FIELDLAB (the built program), top_srcdir,
# top_builddir, GROFF (the path of groff, or empty: those tests are skipped).

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${FIELDLAB:=$top_builddir/src/fieldlab}"
GROFF=${GROFF-$(command -v groff 2>/dev/null)}
MAN=$(command -v man 2>/dev/null)

man1=$top_builddir/man/fieldlab.1
man7=$top_builddir/man/fieldlab-lua.7
tmp=${TMPDIR:-/tmp}/fieldlab-man.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
diag() { sed 's/^/# /' "$1" | head -n "${2:-20}"; }

# The text of a page's source with the escapes we use undone, so that a
# signature or an option can be found with grep -F.
plain() {
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\%//g' -e 's/\\&//g' \
      -e "s/\\\\(aq/'/g" -e 's/\\(ga/`/g' -e 's/\\(dq/"/g' -e 's/\\(ha/^/g' \
      -e 's/\\(ti/~/g' -e 's/\\(lq/"/g' -e 's/\\(rq/"/g' -e 's/\\e/\\/g' "$1"
}

echo "1..9"

# 1-2: they exist
for page in "$man1" "$man7"; do
  if test -s "$page"; then ok "$(basename "$page") exists"
  else notok "$(basename "$page") exists" "missing or empty: $page"; fi
done

# 3-4: lint clean
for page in "$man1" "$man7"; do
  name=$(basename "$page")
  if test -z "$GROFF"; then skip "groff not found: $name not linted"
  elif ! test -s "$page"; then notok "$name lints clean" "no page"
  else
    "$GROFF" -man -ww -z "$page" >/dev/null 2>"$tmp/lint"
    if test -s "$tmp/lint"; then notok "$name lints clean (groff -man -ww -z)"; diag "$tmp/lint"
    else ok "$name lints clean (groff -man -ww -z)"; fi
  fi
done

# 5: every option of `fieldlab -h` is in fieldlab(1)
"$FIELDLAB" -h >"$tmp/help" 2>&1
hrc=$?
opts=$(grep -oE -- '--[a-z][a-z-]*|(^|[^[:alnum:]-])-[a-zA-Z]' "$tmp/help" | sed 's/^[^-]*//' | sort -u)
if test "$hrc" -ne 0 || test -z "$opts"; then
  notok "fieldlab(1) documents every option of fieldlab -h" "fieldlab -h exited $hrc or listed no options:"; diag "$tmp/help"
elif ! test -s "$man1"; then
  notok "fieldlab(1) documents every option of fieldlab -h" "no fieldlab.1"
else
  plain "$man1" >"$tmp/man1.txt"
  missing=
  for o in $opts; do
    grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" "$tmp/man1.txt" || missing="$missing $o"
  done
  if test -z "$missing"; then ok "fieldlab(1) documents every option of fieldlab -h ($(echo $opts | wc -w) options)"
  else notok "fieldlab(1) documents every option of fieldlab -h" "missing:$missing"; fi
fi

# 6: every documented entry is in fieldlab-lua(7): each signature, each
# module and type name, each topic title
"$FIELDLAB" -e '
  local h = require "fieldlab.help"
  for _, e in ipairs(h.load_all().entries) do
    if e.kind == "module" or e.kind == "type" then print(e.keys[1])
    elseif e.kind == "topic" then print((e.title:gsub("`", "")))
    else for _, s in ipairs(e.sigs) do print(s.text) end end
  end' >"$tmp/needles" 2>"$tmp/needles.err"
nrc=$?
if test "$nrc" -ne 0 || ! test -s "$tmp/needles"; then
  notok "fieldlab-lua(7) has every documented entry" "could not list the entries (exit $nrc):"; diag "$tmp/needles.err"
elif ! test -s "$man7"; then
  notok "fieldlab-lua(7) has every documented entry" "no fieldlab-lua.7"
else
  plain "$man7" >"$tmp/man7.txt"
  : >"$tmp/missing"
  while IFS= read -r needle; do
    grep -qF -- "$needle" "$tmp/man7.txt" || echo "$needle" >>"$tmp/missing"
  done <"$tmp/needles"
  if test -s "$tmp/missing"; then notok "fieldlab-lua(7) has every documented entry"; diag "$tmp/missing" 40
  else ok "fieldlab-lua(7) has every documented entry ($(wc -l <"$tmp/needles") signatures and names)"; fi
fi

# 7: scripts/mkman.lua is reproducible: the same output twice, and its date
# from SOURCE_DATE_EPOCH
mk() { "$FIELDLAB" "$top_srcdir/scripts/mkman.lua" 9.8.7 >"$1" 2>"$tmp/mk.err"; }
if (unset SOURCE_DATE_EPOCH; mk "$tmp/a.7") && (unset SOURCE_DATE_EPOCH; mk "$tmp/b.7") \
   && SOURCE_DATE_EPOCH=86400 mk "$tmp/c.7"; then
  if ! cmp -s "$tmp/a.7" "$tmp/b.7"; then notok "mkman.lua is reproducible" "two runs differ"
  elif ! grep -q '^\.TH FIELDLAB\\-LUA 7 "1970-01-02" "fieldlab 9.8.7"' "$tmp/c.7"; then
    notok "mkman.lua is reproducible" "SOURCE_DATE_EPOCH=86400 did not give the date 1970-01-02:"; grep '^\.TH' "$tmp/c.7" | diag /dev/stdin
  else ok "mkman.lua is reproducible (same output twice, date from SOURCE_DATE_EPOCH)"; fi
else
  notok "mkman.lua is reproducible" "mkman.lua failed:"; diag "$tmp/mk.err"
fi

# 8-9: man(1) renders them
for page in "$man1" "$man7"; do
  name=$(basename "$page")
  if test -z "$MAN"; then skip "man not found: $name not rendered"
  elif ! test -s "$page"; then notok "man -l $name renders" "no page"
  else
    MANWIDTH=80 MANPAGER=cat PAGER=cat "$MAN" -l "$page" >"$tmp/render" 2>"$tmp/render.err"
    mrc=$?
    if test "$mrc" -eq 0 && grep -q 'NAME' "$tmp/render" && grep -q 'SEE ALSO' "$tmp/render"; then
      ok "man -l $name renders"
    else notok "man -l $name renders" "man exited $mrc"; diag "$tmp/render.err"; fi
  fi
done
