#!/bin/sh
# Every tests/lua/*.lua is one TAP test point: the fieldlab program runs it in a
# scratch directory and it passes when it exits 0. Scripts find fixtures under
# $top_srcdir/tests/data.
. "$top_srcdir/tests/tap.sh"
set -u
tap_scratch
tap_each_script "$top_srcdir/tests/lua"
for f in $files; do
  name=${f##*/}
  out=$(cd "$scratch" && "$FIELDLAB" "$f" 2>&1)
  rc=$?
  tap_ok $rc "$name"
  [ $rc -eq 0 ] || tap_diag "$out"
done
