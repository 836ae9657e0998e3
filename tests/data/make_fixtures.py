#!/usr/bin/python3
"""Write the .npy and .csv fixtures of tests/unit/test_array_io.c.

Run from anywhere with a Python that has numpy (on Debian: /usr/bin/python3):

    /usr/bin/python3 tests/data/make_fixtures.py

Every value is chosen so that the C test can recompute it by formula; the
formulas are repeated in the comments and in test_array_io.c.  The files are
committed, so this script only needs to run again when a fixture changes.
"""
import io
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save(name, a):
    np.save(path(name), a, allow_pickle=False)


def raw(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


def main():
    # ---------------------------------------------------------- good .npy
    i, j = np.indices((3, 4))
    save("f8_3x4.npy", (i * 10 + j + 0.25).astype("<f8"))          # a[i,j] = 10i + j + 0.25
    save("f4_7.npy", (np.arange(7) / 7).astype("<f4"))             # a[k] = (float)(k/7.0)
    save("i8_6.npy", ((np.arange(6) - 3) * 123456789012).astype("<i8"))  # (k-3)*123456789012
    save("i4_2x3.npy", ((np.arange(6) - 4) * 100003).astype("<i4").reshape(2, 3))  # (k-4)*100003
    save("i2_5.npy", ((np.arange(5) - 2) * 16000).astype("<i2"))    # (k-2)*16000
    save("i1_5.npy", np.array([-128, -1, 0, 1, 127], dtype="|i1"))
    save("u1_4.npy", np.array([0, 1, 128, 255], dtype="|u1"))
    save("b1_4.npy", np.array([True, False, False, True], dtype="|b1"))
    save("f8_big_2x3.npy", (np.arange(6) / 7).reshape(2, 3).astype(">f8"))  # a[k] = k/7.0
    save("f4_big_5.npy", (np.arange(5) / 3).astype(">f4"))          # a[k] = (float)(k/3.0)
    i, j, k = np.indices((2, 3, 4))
    save("f8_2x3x4.npy", (100 * i + 10 * j + k - 0.5).astype("<f8"))  # 100i + 10j + k - 0.5
    save("f8_scalar.npy", np.array(3.5))                            # shape () -> loads as (1)
    save("f8_0x3.npy", np.zeros((0, 3)))                            # empty
    a = (np.arange(6) / 7).reshape(3, 2)                            # a[k] = k/7.0
    raw("f8_v2_3x2.npy", npy_bytes(a, (2, 0)))
    raw("f8_v3_3x2.npy", npy_bytes(a, (3, 0)))
    # The exact bytes numpy writes; fieldlab's writer must reproduce them.
    save("written_by_numpy_2x3.npy", np.zeros((2, 3)))
    save("written_by_numpy_7.npy", np.arange(7) / 7)

    # ---------------------------------------------------------- bad .npy
    good = npy_bytes((np.arange(12) + 0.5).reshape(4, 3))           # 96 bytes of data
    raw("bad_truncated.npy", good[:-40])                            # data cut short
    lying = npy_bytes(np.zeros((1000, 1000)))
    hlen = struct.unpack("<H", lying[8:10])[0]
    raw("bad_lying_header.npy", lying[:10 + hlen] + struct.pack("<d", 1.0))  # 8 bytes of data
    raw("bad_magic.npy", b"\x93NUMPZ" + good[6:])
    save("bad_complex.npy", np.arange(3) * (1 + 2j))                # '<c16'
    save("bad_fortran.npy", np.asfortranarray(np.arange(6.0).reshape(2, 3)))

    # ---------------------------------------------------------- .csv
    i, j = np.indices((4, 3))
    m = i * 10 + j + np.array([0.5, 1e-300, -2.5e10])               # a[i,j] = 10i + j + c[j]
    np.savetxt(path("numpy_header.csv"), m, delimiter=",", header="x,y,z", comments="")
    np.savetxt(path("numpy_comment_header.csv"), m, delimiter=",", header="x,y,z")  # "# x,y,z"
    with open(path("quoted_header.csv"), "w", newline="") as f:
        f.write('"alpha", "beta,gamma" ,"say ""hi"""\r\n1,2,3\r\n\r\n4, 5 ,6\r\n')


if __name__ == "__main__":
    main()
