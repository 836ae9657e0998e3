#!/bin/sh
# Interchange with numpy: files fieldlab writes load in numpy with the same
# values (and the same bytes numpy itself would write), and the reverse is
# covered by the fixtures in tests/data/ (written by numpy, read in the unit
# and Lua tests). Skips when /usr/bin/python3 lacks numpy.
. "$top_srcdir/tests/tap.sh"
set -u
py=/usr/bin/python3
check="$top_srcdir/tests/data/check_numpy_reads.py"
tap_plan 4
if ! "$py" -c 'import numpy' 2>/dev/null; then
  for i in 1 2 3 4; do tap_skip "numpy interchange $i" "no numpy in $py"; done
  exit 0
fi
tap_scratch
cd "$scratch" || exit 99

"$FIELDLAB" -e '
local a = array.arange(6):reshape(2, 3) / 7
a:set(1, 1, -0.0); a:set(2, 3, 1e-308)
a:save("a.npy")
array.save("b.npy", array.from{0/0, 1/0, -1/0, 2^53 + 1})
array.save("c.csv", array.from{{1.5, 2}, {3, 1/3}}, {header = "x,y"})
array.save("big.npy", array.randn({50, 4, 3}, {seed = 1}))
' 2>err.txt
tap_ok $? "fieldlab writes .npy and .csv files"
[ -s err.txt ] && tap_diag "$(cat err.txt)"

out=$("$py" "$check" a.npy 2>&1)
expect="version 1.0
dtype float64
fortran_order False
shape 2 3
same_bytes_as_numpy yes
-0.0
0.14285714285714285
0.2857142857142857
0.42857142857142855
0.5714285714285714
1e-308"
[ "$out" = "$expect" ]
tap_ok $? "numpy reads a (2,3) <f8 file with the exact values and numpy's own bytes"
[ "$out" = "$expect" ] || tap_diag "$out"

out=$("$py" "$check" b.npy 2>&1 | tail -n 4 | tr '\n' ' ')
[ "$out" = "nan inf -inf 9007199254740992.0 " ]
tap_ok $? "NaN, infinities and large integers survive"
[ "$out" = "nan inf -inf 9007199254740992.0 " ] || tap_diag "$out"

out=$("$py" "$check" c.csv --skiprows 1 2>&1 | tr '\n' ' ')
fl=$("$FIELDLAB" -e 'local b = array.load("big.npy"); io.write(string.format("%.17g", b:sum()))')
np=$("$py" -c 'import numpy as np; print("%.17g" % np.load("big.npy").sum(dtype=np.float64), end="")')
case "$out" in
  *"shape 2 2 1.5 2.0 3.0 0.3333333333333333 "*) csvok=0 ;;
  *) csvok=1 ;;
esac
fl_np=$("$py" -c "print(abs($fl - $np) <= 1e-12 * max(1, abs($np)))")
[ $csvok -eq 0 ] && [ "$fl_np" = True ]
tap_ok $? "numpy reads the CSV, and a 3-D random array sums alike in both"
[ $csvok -eq 0 ] && [ "$fl_np" = True ] || tap_diag "csv: $out" "sum fieldlab $fl numpy $np"
