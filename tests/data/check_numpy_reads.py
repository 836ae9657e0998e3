#!/usr/bin/python3
"""Check that numpy reads a file written by fieldlab, and print what it read.

    /usr/bin/python3 tests/data/check_numpy_reads.py FILE.npy
    /usr/bin/python3 tests/data/check_numpy_reads.py FILE.csv [--skiprows N]

For a .npy file it prints

    version 1.0
    dtype float64
    fortran_order False
    shape 2 3
    same_bytes_as_numpy yes
    0.25
    ...

then every value in C order, one per line, as Python's repr (which round-trips
exactly: 'nan', 'inf', '-0.0', '1e-308'). `same_bytes_as_numpy` says whether
np.save of the array read gives back the file byte for byte. For a .csv file
(numpy.loadtxt, comma separated, 2-D) the same lines without version,
fortran_order and same_bytes_as_numpy. Exits 1 with the reason on stderr when
numpy cannot read the file. Needs a Python with numpy (on Debian /usr/bin/python3);
used by the Lua/CLI tests, which skip when it is absent.
"""
import argparse
import io
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--skiprows", type=int, default=0, help="header lines of a .csv")
    args = ap.parse_args()
    try:
        if args.file.endswith(".csv"):
            a = np.loadtxt(args.file, delimiter=",", ndmin=2, skiprows=args.skiprows)
            lines = []
        else:
            with open(args.file, "rb") as f:
                raw = f.read()
            fp = io.BytesIO(raw)
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
            fp.seek(0)
            a = np.lib.format.read_array(fp, allow_pickle=False)
            out = io.BytesIO()
            np.save(out, a, allow_pickle=False)
            lines = [
                "version %d.%d" % version,
                "dtype %s" % a.dtype,
                "fortran_order %s" % fortran,
            ]
            same = "yes" if out.getvalue() == raw else "no"
    except Exception as e:  # noqa: BLE001 - any failure to read is the answer
        print("%s: numpy cannot read it: %s" % (args.file, e), file=sys.stderr)
        return 1
    if args.file.endswith(".csv"):
        lines.append("dtype %s" % a.dtype)
    lines.append("shape " + " ".join(str(n) for n in a.shape))
    if not args.file.endswith(".csv"):
        lines.append("same_bytes_as_numpy " + same)
    lines.extend(repr(float(x)) for x in a.ravel(order="C"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
