-- Grid fields: construction, properties, values view, sampling, interpolation,
-- FD and spectral derivatives, grid_from with .npy, against closed forms.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
local pi = math.pi

-- ---------------------------------------------------------------- construction and properties
local g = field.grid{n = {4, 5}, box = {{0, 1}, {-1, 1}}}
T.eq(g.kind, "grid"); T.eq(g.dim, 2); T.eq(g.codim, 2, "default components = d")
T.eq(g.n[1], 4); T.eq(g.n[2], 5)
T.eq(g.box[2][1], -1); T.eq(g.box[2][2], 1)
T.eq(g.periodic[1], false); T.eq(g.interp, "linear")
T.eq(table.concat(g.values.shape, ","), "4,5,2")
T.eq(g.values:sum(), 0, "zeros by default")
local s = field.grid{n = {8, 6}, box = {0, 2 * pi}, periodic = {true, false}, components = 1, interp = "cubic"}
T.eq(table.concat(s.values.shape, ","), "8,6", "scalar grid values have no component axis")
T.eq(s.periodic[1], true); T.eq(s.periodic[2], false); T.eq(s.box[2][2], 2 * pi); T.eq(s.interp, "cubic")
T.eq(field.grid{n = 10, box = {{0, 1}, {0, 1}, {0, 1}}}.codim, 3, "n given once for every axis")

-- coordinates and points: periodic axes exclude the right end, others include it
local cs = s:coords()
T.eq(#cs, 2); T.eq(cs[1].size, 8); T.eq(cs[2].size, 6)
T.near(cs[1][8], 2 * pi * 7 / 8, 1e-15, "periodic node spacing")
T.eq(cs[2][6], 2 * pi, "non-periodic last node is the right end")
local P = s:points()
T.eq(table.concat(P.shape, ","), "48,2")
T.near(P:get(2 * 6 + 4, 1), cs[1][3], 0, "row-major node order (axis 1)")
T.near(P:get(2 * 6 + 4, 2), cs[2][4], 0, "row-major node order (axis 2)")

-- ---------------------------------------------------------------- values are a view
local v = g.values
v:set(2, 3, 1, 7.5)          -- node (2, 3) = (1/3, 0)
T.eq(g.values:get(2, 3, 1), 7.5, "write through the view")
T.near(g{1 / 3, 0}[1], 7.5, 1e-14, "the field sees the write")
T.near(g{1 / 3, 0.25}[1], 7.5 / 2, 1e-14, "halfway to the next node")
-- a grid made on an existing array shares it
local A = array.zeros{3, 3}
local h = field.grid{n = {3, 3}, values = A}
T.eq(h.codim, 1, "components from the values' shape")
A:set(2, 2, 4)
T.near(h{0.5, 0.5}[1], 4, 1e-15, "field.grid keeps the array, not a copy")

-- ---------------------------------------------------------------- sampling and interpolation
-- an affine field is reproduced exactly by linear interpolation, with an exact Jacobian
local M = field.linear{A = {{1, 2}, {-3, 0.5}}, b = {0.25, -1}}
local ga = field.sample(M, {n = {7, 9}, box = {{-1, 2}, {0, 3}}})
T.eq(ga.kind, "grid"); T.eq(ga.codim, 2)
local X = array.rand({500, 2}, {seed = 3}) * 3 + array.from{-1, 0}
T.allclose(ga(X), M(X), 1e-13, "linear interpolation of an affine field")
local J = ga:jacobian(X)
T.eq(J.exact, true, "grid fields have an exact Jacobian")
T.allclose(J[17], {{1, 2}, {-3, 0.5}}, 1e-12, "Jacobian of the interpolant")
-- at the nodes the interpolant returns the node values
local gc = field.sample(M, ga, {t = 0})
T.allclose(gc:points(), ga:points(), 0)
local rnd = field.grid{n = {6, 7}, box = {{0, 1}, {0, 2}}, components = 3, interp = "cubic",
  values = array.randn({6, 7, 3}, {seed = 9})}
T.allclose(rnd(rnd:points()), rnd.values:reshape(42, 3), 1e-14, "cubic interpolation at the nodes")
-- field.sample of a scripted field (field.fn) holds f at the nodes
local fn = field.fn(function(x) return (x:col(1) * 2 + x:col(2):sin()):reshape(x.shape[1], 1) end, {dim = 2, codim = 1})
local gs = field.sample(fn, {n = {5, 4}, box = {{0, 1}, {0, 1}}, interp = "cubic"})
T.eq(gs.interp, "cubic"); T.eq(table.concat(gs.values.shape, ","), "5,4")
T.allclose(gs.values:reshape(20), fn(gs:points()):reshape(20), 1e-15, "sampled values")

-- convergence of interpolation: halving h divides the error by 4 (linear), 8 (cubic)
local smooth = field.fn(function(x)
  return (x:col(1) * 2 + 0.3):sin():reshape(x.shape[1], 1) * (x:col(2) * 1.5):cos():reshape(x.shape[1], 1)
end, {dim = 2, codim = 1})
local Y = array.rand({4000, 2}, {seed = 5})
local function interp_err(n, how)
  local gg = field.sample(smooth, {n = {n, n}, box = {0, 1}, interp = how})
  return (gg(Y) - smooth(Y)):abs():max()
end
local r1 = interp_err(20, "linear") / interp_err(40, "linear")
local r3 = interp_err(20, "cubic") / interp_err(40, "cubic")
assert(r1 > 3.5 and r1 < 4.6, "linear interpolation error ratio " .. r1 .. ", expected ~4")
assert(r3 > 7 and r3 < 9.5, "cubic interpolation error ratio " .. r3 .. ", expected ~8")

-- periodic axes wrap; points outside a non-periodic box are an error
local pg = field.sample(smooth, {n = {16, 16}, box = {{0, 1}, {0, 1}}, periodic = {true, false}, interp = "cubic"})
T.near(pg{0.3 + 5, 0.4}[1], pg{0.3, 0.4}[1], 1e-14, "periodic wrap")
T.near(pg{0.3 - 2, 0.4}[1], pg{0.3, 0.4}[1], 1e-14, "periodic wrap (negative)")
T.raises(function() return pg{0.3, 1.5} end, "outside the grid box", "(0.3, 1.5)", "[0, 1) x [0, 1]")
T.raises(function() return pg({{0.1, 0.1}, {0.2, -0.01}}) end, "point 2 of 2")

-- ---------------------------------------------------------------- derivatives
-- spectral derivatives of a trigonometric field on a periodic 64^2 grid: exact
local trig = field.fn(function(x)
  local a, b = x:col(1), x:col(2)
  return ((a * 3):sin() * (b * 2):cos() + (b - a):cos()):reshape(x.shape[1], 1)
end, {dim = 2, codim = 1})
local tg = field.sample(trig, {n = {64, 64}, box = {0, 2 * pi}, periodic = true})
local pts = tg:points()
local a, b = pts:col(1), pts:col(2)
local dx = tg:partial(1, {method = "spectral"})
T.eq(dx.kind, "grid"); T.eq(dx.codim, 1)
T.allclose(dx.values:reshape(4096), (a * 3):cos() * 3 * (b * 2):cos() + (b - a):sin(), 1e-12, "spectral d/dx")
local lap = tg:grid_laplacian{method = "spectral"}
T.allclose(lap.values:reshape(4096), (a * 3):sin() * (b * 2):cos() * -13 - (b - a):cos() * 2, 1e-11, "spectral Laplacian")
local gr = tg:grid_grad{method = "spectral"}
T.eq(gr.codim, 2)
T.allclose(gr.values:reshape(4096, 2):col(2), (a * 3):sin() * (b * 2):sin() * -2 - (b - a):sin(), 1e-12, "spectral grad")
-- 2nd and 4th order FD, walls included: the error falls by 4 and 16 per halving
-- of h (the order-4 ratio approaches 16 from above: 20 at n = 41; 3 or 5 would be 8 or 32)
local function fd_err(n, order)
  local gg = field.sample(trig, {n = {n, n}, box = {{0, 2}, {0, 3}}})
  local d = gg:partial(2, {order = order})
  local p = d:points()
  local ex = (p:col(1) * 3):sin() * (p:col(2) * 2):sin() * -2 - (p:col(2) - p:col(1)):sin()
  return (d.values:reshape(n * n) - ex):abs():max()
end
local q2 = fd_err(41, 2) / fd_err(81, 2)
local q4 = fd_err(41, 4) / fd_err(81, 4)
assert(q2 > 3.6 and q2 < 4.4, "order-2 FD error ratio " .. q2)
assert(q4 > 13 and q4 < 22, "order-4 FD error ratio " .. q4)

-- Taylor-Green is solenoidal: spectral divergence 0 to rounding, FD small
local TG = field.fn(function(x)
  local a, b = x:col(1), x:col(2)
  return array.stack({a:sin() * b:cos(), -(a:cos() * b:sin())}, 2)
end, {dim = 2, codim = 2})
local tgv = field.sample(TG, {n = {64, 48}, box = {0, 2 * pi}, periodic = true})
T.eq(tgv.codim, 2)
local dv = tgv:grid_div{method = "spectral"}
T.eq(dv.codim, 1)
assert(dv.values:abs():max() < 1e-12, "spectral div of Taylor-Green: " .. dv.values:abs():max())
local w = tgv:grid_curl{method = "spectral"}
local tp = tgv:points()
T.allclose(w.values:reshape(64 * 48), tp:col(1):sin() * tp:col(2):sin() * 2, 1e-12, "Taylor-Green vorticity")
local tgb = field.sample(TG, {n = {33, 40}, box = {{0.1, 2}, {-0.5, 1.3}}})
local e2 = tgb:grid_div().values:abs():max()
local e4 = tgb:grid_div{order = 4}.values:abs():max()
assert(e2 > 1e-6 and e2 < 1e-2, "order-2 FD div of Taylor-Green " .. e2)
assert(e4 < e2 / 20, "order-4 FD div of Taylor-Green " .. e4 .. " vs order 2 " .. e2)

-- the curl of a rotation omega (-y, x) is 2 omega, exactly, walls included
local rot = field.sample(field.rotation{omega = 1.5}, {n = {9, 7}, box = {{-1, 2}, {-1, 1}}})
local c = rot:grid_curl{order = 4}
T.allclose(c.values, array.full({9, 7}, 3), 1e-12, "curl of a rotation")
local rot3 = field.sample(field.rotation{omega = 2, axis = {0, 0, 1}}, {n = {6, 6, 6}, box = {-1, 1}})
local c3 = rot3:grid_curl()
T.eq(c3.codim, 3)
T.allclose(c3.values:reshape(216, 3), array.zeros{216, 3} + array.from{0, 0, 4}, 1e-12, "3-D curl")
T.allclose(c3(array.rand({50, 3}, {seed = 2}) * 2 - 1), array.zeros{50, 3} + array.from{0, 0, 4}, 1e-12,
  "a derived grid is a field too")

-- ---------------------------------------------------------------- grid_from and .npy
local data = array.randn({12, 10, 2}, {seed = 4})
array.save("grid_values.npy", data)
local loaded = array.load("grid_values.npy")
local gf = field.grid_from(loaded, {{0, 1}, {0, 2}}, {periodic = {false, true}, interp = "cubic"})
T.eq(gf.codim, 2); T.eq(gf.n[1], 12); T.eq(gf.n[2], 10); T.eq(gf.periodic[2], true); T.eq(gf.interp, "cubic")
T.allclose(gf(gf:points()), data:reshape(120, 2), 1e-14, "grid_from round trip through .npy")
T.near(gf:points():get(2, 2), 0.2, 1e-15, "periodic axis 2: spacing 2/10")
local sc = field.grid_from(data:slice{{1, 12}, {1, 10}, 1}:reshape(12, 10), {{0, 1}, {0, 1}})
T.eq(sc.codim, 1, "2-D values with a 2-axis box: a scalar grid")
gf.values:set(1, 1, 1, 42)
T.eq(loaded:get(1, 1, 1), 42, "grid_from shares the array")

-- ---------------------------------------------------------------- misuse
T.raises(function() return M:partial(1) end, "g:partial: not a grid field")
T.raises(function() return M:grid_div() end, "g:grid_div: not a grid field")
T.raises(function() return rot:grid_div{method = "spectral"} end, "g:grid_div", "periodic")
T.raises(function() return rot:partial(3) end, "axis 3 out of range 1..2")
T.raises(function() return rot:partial(1, {order = 3}) end, "'order' must be 2 or 4")
T.raises(function() return tg:grid_div() end, "divergence needs as many components as axes")
T.raises(function() return field.grid{n = {4, 4}, values = array.zeros{4, 5}} end, "values have shape (4,5)")
T.eq(M.n, nil, "grid properties are nil on other fields")
