#!/bin/sh
# Every examples/*.lua is smoke-run at its small size (first argument
# "small"): one TAP test point each, passing when it exits 0 with output.
. "$top_srcdir/tests/tap.sh"
set -u
tap_scratch
files=$(ls "$top_srcdir"/examples/*.lua 2>/dev/null | sort)
tap_plan "$(echo "$files" | grep -c .)"
for f in $files; do
  out=$(cd "$scratch" && "$FIELDLAB" "$f" small 2>&1)
  rc=$?
  [ $rc -eq 0 ] && [ -n "$out" ]
  tap_ok $? "example ${f##*/} (small)"
  [ $rc -eq 0 ] || tap_diag "$out"
done
