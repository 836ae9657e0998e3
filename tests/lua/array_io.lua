-- .npy and .csv from Lua: numpy-written fixtures, round trips, CSV headers.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- a file written by numpy: f8_3x4 holds a[i, j] = i*10 + j + 0.25 (0-based i, j)
local f = array.load(T.data .. "f8_3x4.npy")
T.eq(table.concat(f.shape, ","), "3,4")
for i = 1, 3 do for j = 1, 4 do T.eq(f:get(i, j), (i - 1) * 10 + (j - 1) + 0.25) end end

-- round trip through .npy is bit exact
local a = array.randn({5, 3}, {seed = 1})
a:set(1, 1, 0 / 0); a:set(1, 2, 1 / 0); a:set(1, 3, -0.0)
a:save("a.npy")
local b = array.load("a.npy")
T.eq(table.concat(b.shape, ","), "5,3")
assert(b:get(1, 1) ~= b:get(1, 1), "NaN survives")
T.eq(b:get(1, 2), 1 / 0); T.eq(1 / b:get(1, 3), -1 / 0, "-0.0 survives")
for i = 2, 5 do for j = 1, 3 do T.eq(b:get(i, j), a:get(i, j)) end end
array.save("c.npy", array.arange(7) / 7)
T.allclose(array.load("c.npy"), array.arange(7) / 7, 0)

-- CSV: header detection and names
local m = array.from{{1.5, 2}, {3, 4e-300}}
array.save("m.csv", m, {header = "x,y"})
local back, names = array.load("m.csv")
T.allclose(back, m, 0, "csv round trip"); T.eq(names[1], "x"); T.eq(names[2], "y")
array.save("n.csv", m)
local nb, nn = array.load("n.csv")
T.allclose(nb, m, 0); T.eq(nn, nil, "no header")
local hb = array.load("m.csv", {header = true})
T.eq(hb.shape[1], 2)
local fx, fnames = array.load(T.data .. "numpy_header.csv")
assert(fx.size > 0 and #fnames == fx.shape[2], "numpy savetxt file with header")
array.save("plain.data", m, {format = "csv"})
T.allclose(array.load("plain.data", {format = "csv"}), m, 0, "format option")

print("array_io ok")
