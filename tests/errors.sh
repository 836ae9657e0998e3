#!/bin/sh
# Every tests/errors/*.lua is a misuse that must end in a clean error: exit
# status 1 (never a signal), stderr starting with "fieldlab: " and containing
# each fragment given on a "-- expect: FRAGMENT" line of the script.
. "$top_srcdir/tests/tap.sh"
set -u
tap_scratch
tap_each_script "$top_srcdir/tests/errors"
for f in $files; do
  name=${f##*/}
  (cd "$scratch" && "$FIELDLAB" "$f" >/dev/null 2>"$scratch/stderr")
  rc=$?
  fail=0
  why=""
  if [ $rc -ne 1 ]; then fail=1; why="exit status $rc, expected 1"; fi
  head -n 1 "$scratch/stderr" | grep -q '^fieldlab: ' || { fail=1; why="$why; stderr does not start with 'fieldlab: '"; }
  nexp=0
  while IFS= read -r frag; do
    nexp=$((nexp + 1))
    grep -qF -- "$frag" "$scratch/stderr" || { fail=1; why="$why; missing '$frag'"; }
  done <<EOT
$(sed -n 's/^-- expect: //p' "$f")
EOT
  [ $nexp -gt 0 ] || { fail=1; why="$why; no '-- expect:' line in the script"; }
  tap_ok $fail "$name"
  if [ $fail -ne 0 ]; then tap_diag "$why" "$(cat "$scratch/stderr")"; fi
done
