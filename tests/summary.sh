#!/bin/sh
# Print the closing "N passed, N failed[, N skipped]" line of a test run from
# automake's test-suite.log (counts are per TAP test point).
log=${1:-test-suite.log}
[ -f "$log" ] || { echo "0 passed, 1 failed"; exit 0; }
get() { sed -n "s/^# $1: *\([0-9][0-9]*\).*/\1/p" "$log" | head -n 1; }
pass=$(get PASS); fail=$(get FAIL); err=$(get ERROR); xpass=$(get XPASS); xfail=$(get XFAIL); skip=$(get SKIP)
passed=$(( ${pass:-0} + ${xfail:-0} ))
failed=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
if [ "${skip:-0}" -gt 0 ]; then
  echo "$passed passed, $failed failed, ${skip} skipped"
else
  echo "$passed passed, $failed failed"
fi
