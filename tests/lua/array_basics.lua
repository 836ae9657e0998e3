-- Arrays from Lua: constructors, properties, indexing, views, slices, printing.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- constructors and properties
local z = array.zeros{2, 3}
T.eq(z.ndim, 2, "ndim"); T.eq(z.size, 6, "size"); T.eq(#z, 2, "#z")
T.eq(z.shape[1], 2); T.eq(z.shape[2], 3)
T.eq(array.zeros(4).ndim, 1)
T.eq(array.ones{2, 2}:sum(), 4, "ones")
T.eq(array.full({3}, 2.5):sum(), 7.5, "full")
T.allclose(array.linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1})
T.allclose(array.arange(5), {0, 1, 2, 3, 4})
T.allclose(array.arange(1, 2, 0.25), {1, 1.25, 1.5, 1.75})
T.allclose(array.arange(3, 0, -1), {3, 2, 1})
T.allclose(array.eye(2, 3), {{1, 0, 0}, {0, 1, 0}})
local gx, gy = array.meshgrid(array.from{1, 2, 3}, array.from{10, 20})
T.allclose(gx, {{1, 1}, {2, 2}, {3, 3}}); T.allclose(gy, {{10, 20}, {10, 20}, {10, 20}})
T.eq(array.is_array(z), true); T.eq(array.is_array({}), false)

-- from: nested tables, and a copy of an array
local a = array.from{{1, 2, 3}, {4, 5, 6}}
T.eq(a:get(2, 3), 6); T.eq(a:get(-1, -1), 6); T.eq(a:get(1, -3), 1)
local a2 = array.from(a); a2:set(1, 1, 100); T.eq(a:get(1, 1), 1, "array.from copies")

-- indexing: a[i] of a 1-D array is a number, of an n-D array a row view
local v = array.from{5, 6, 7}
T.eq(v[1], 5); T.eq(v[-1], 7)
v[2] = 60; T.eq(v[2], 60)
local r = a[2]
T.allclose(r, {4, 5, 6})
r[1] = 40                     -- writes through the view
T.eq(a:get(2, 1), 40, "row view writes through")
a[1] = 0                      -- fill a row with a number
T.allclose(a, {{0, 0, 0}, {40, 5, 6}})
a[1] = array.from{7, 8, 9}    -- or with an array of the row's shape
T.allclose(a[1], {7, 8, 9})
T.eq(a[1][2], 8, "chained indexing")
-- a view keeps its owner alive
local view; do local big = array.arange(12):reshape(3, 4); view = big[3] end
collectgarbage(); collectgarbage()
T.allclose(view, {8, 9, 10, 11}, 0, "view outlives owner")

-- row, col, slice, reshape, copy, totable, transpose
local m = array.arange(12):reshape(3, 4)
T.allclose(m:row(2), {4, 5, 6, 7}); T.allclose(m:col(2), {1, 5, 9})
T.allclose(m:slice{{1, 2}, {2, 4, 2}}, {{1, 3}, {5, 7}})
T.allclose(m:slice{{-1, 1, -1}}, {{8, 9, 10, 11}, {4, 5, 6, 7}, {0, 1, 2, 3}}, 0, "negative step")
T.allclose(m:slice{2}, {{4, 5, 6, 7}}, 0, "integer index keeps the axis")
T.allclose(m:slice{true, {3}}, {{2, 3}, {6, 7}, {10, 11}}, 0, "{i} runs to the end")
T.allclose(m:slice{{}, {-1, -1}}, {{3}, {7}, {11}})
T.eq(m:slice{{3, 1}}.shape[1], 0, "empty range")
T.allclose(m:reshape{2, -1}, {{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}}, 0, "reshape -1")
local mr = m:reshape(12); mr[1] = 99; T.eq(m:get(1, 1), 99, "reshape is a view"); m:set(1, 1, 0)
local mc = m:copy(); mc:set(1, 1, 5); T.eq(m:get(1, 1), 0, "copy is a copy")
local t = m:totable(); T.eq(#t, 3); T.eq(#t[1], 4); T.eq(t[3][4], 11)
T.allclose(m:t(), {{0, 4, 8}, {1, 5, 9}, {2, 6, 10}, {3, 7, 11}})
local c3 = array.arange(24):reshape(2, 3, 4):t()
T.eq(table.concat(c3.shape, ","), "4,3,2", "3-D transpose reverses axes"); T.eq(c3:get(4, 3, 2), 23)

-- concat and stack
local p, q = array.from{{1, 2}}, array.from{{3, 4}}
T.allclose(array.concat{p, q}, {{1, 2}, {3, 4}})
T.allclose(array.concat({p, q}, 2), {{1, 2, 3, 4}})
T.allclose(array.stack{array.from{1, 2}, array.from{3, 4}}, {{1, 2}, {3, 4}})
T.allclose(array.stack({array.from{1, 2}, array.from{3, 4}}, 2), {{1, 3}, {2, 4}})

-- printing
T.eq(tostring(array.from{{1, 2}, {3, 4}}), "array([[1., 2.],\n       [3., 4.]])")
T.eq(tostring(array.from{0.5, 1.25}), "array([0.50, 1.25])")
local big = tostring(array.zeros{2000})
assert(big:find("...", 1, true) and big:find("shape=(2000,)", 1, true), big)
local closed = array.zeros(3); closed:close()
T.eq(tostring(closed), "fieldlab.Array (closed)")
T.raises(function() return closed:sum() end, "closed")
closed:close() -- closing twice is harmless
do local tmp <close> = array.zeros(10) end

-- random numbers: counter based and reproducible
local s1 = array.randn({4, 3}, {seed = 5})
local s2 = array.randn({4, 3}, {seed = 5})
T.allclose(s1, s2, 0, "same seed, same numbers")
assert((s1 - array.randn({4, 3}, {seed = 5, stream = 1})):abs():max() > 0, "other stream differs")
-- element k is a function of (seed, stream, k) only: a longer draw extends a shorter one
local long = array.randn(20, {seed = 5, stream = 2}); local short = array.randn(7, {seed = 5, stream = 2})
T.allclose(long:slice{{1, 7}}, short, 0, "prefix property")
local u = array.rand(100000, {seed = 3})
assert(u:min() >= 0 and u:max() < 1, "rand in [0,1)")
T.near(u:mean(), 0.5, 5 * math.sqrt(1 / 12 / 1e5), "uniform mean")
-- unseeded draws use the default seed and a fresh stream per call
fieldlab.set_seed(11)
local d1, d2 = array.randn(5), array.randn(5)
assert((d1 - d2):abs():max() > 0, "successive unseeded draws differ")
fieldlab.set_seed(11)
T.allclose(array.randn(5), d1, 0, "set_seed restarts the sequence")
T.eq(fieldlab.seed(), 11)

print("array_basics ok")
