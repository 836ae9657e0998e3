-- The Field type from Lua: batched evaluation, single points, derivatives with
-- their exactness flags, scripted fields, algebra, compose and project.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- a scripted 2-D field with a known Jacobian: f(x, y) = (x^2 y, sin(x) + y^3) * (1 + t)
local calls = 0
local f = field.fn(function(x, t)
  calls = calls + 1
  local a, b = x:col(1), x:col(2)
  return array.stack({a * a * b, a:sin() + b ^ 3}, 2) * (1 + t)
end, {dim = 2, time_dependent = true})
T.eq(f.dim, 2); T.eq(f.codim, 2); T.eq(f.time_dependent, true); T.eq(f.kind, "lua")
T.eq(field.is_field(f), true); T.eq(field.is_field({}), false)
assert(tostring(f):find("R^2 -> R^2", 1, true), tostring(f))

local X = array.randn({50, 2}, {seed = 1})
local Y = f(X, 0.5)
T.eq(table.concat(Y.shape, ","), "50,2")
for i = 1, 50 do
  local a, b = X:get(i, 1), X:get(i, 2)
  T.near(Y:get(i, 1), 1.5 * a * a * b, 1e-14); T.near(Y:get(i, 2), 1.5 * (math.sin(a) + b ^ 3), 1e-14)
end
T.allclose(f{1, 2}, {2, math.sin(1) + 8}, 1e-15, "single point as a table")
T.allclose(f:eval(array.from{1, 2}, 1), {4, 2 * (math.sin(1) + 8)}, 1e-15, "single point as an array")

-- Jacobian by central differences, batched into one call of the function
calls = 0
local J = f:jacobian(X, 0.5)
T.eq(calls, 1, "one Lua call for the whole finite-difference batch")
T.eq(J.exact, false); T.eq(table.concat(J.shape, ","), "50,2,2")
for i = 1, 50 do
  local a, b = X:get(i, 1), X:get(i, 2)
  local Je = {{2 * a * b, a * a}, {math.cos(a), 3 * b * b}}
  for r = 1, 2 do for c = 1, 2 do T.near(J:get(i, r, c), 1.5 * Je[r][c], 1e-8, "fd jacobian") end end
  -- divergence and curl follow from it
end
local dv, cu = f:div(X, 0.5), f:curl(X, 0.5)
for i = 1, 50 do
  local a, b = X:get(i, 1), X:get(i, 2)
  T.near(dv[i], 1.5 * (2 * a * b + 3 * b * b), 1e-7, "div")
  T.near(cu[i], 1.5 * (math.cos(a) - a * a), 1e-7, "curl")
end
T.eq(type(f:div{1, 2}), "number", "single-point divergence is a number")

-- a scalar field, its gradient field and Laplacian: phi = exp(-|x|^2/2)
local phi = field.fn(function(x) return (-(x * x):sum(2) / 2):exp() end, {dim = 3, codim = 1})
local g = phi:grad()
T.eq(g.codim, 3); T.eq(g.kind, "gradient")
local P = array.randn({20, 3}, {seed = 2})
local G, L, H = g(P), phi:laplacian(P), phi:hessian(P)
T.eq(H.exact, false); T.eq(L.exact, false)
for i = 1, 20 do
  local r2 = P[i]:dot(P[i])
  local e = math.exp(-r2 / 2)
  for k = 1, 3 do T.near(G:get(i, k), -P:get(i, k) * e, 1e-9, "gradient") end
  T.near(L[i], (r2 - 3) * e, 1e-6, "laplacian")
  T.near(g:div(P[i]), (r2 - 3) * e, 1e-6, "div of the gradient = laplacian")
end
local HJ = g:jacobian(P)
T.allclose(HJ, H, 1e-12, "the gradient's Jacobian is the Hessian")
for i = 1, 20 do T.near(HJ:get(i, 1, 2), HJ:get(i, 2, 1), 1e-12, "symmetric") end

-- algebra
local h = 2 * f - f / 4 + (-f) * 0.5
T.allclose(h(X, 0.5), Y * 1.25, 1e-14, "2f - f/4 - f/2")
T.eq(h.kind, "sum")
local sq = field.fn(function(x) return x * x end, {dim = 2})
local c = field.compose(sq, f)   -- f then square
T.allclose(c(X, 0.5), Y * Y, 1e-14, "compose")
local p = field.project(f, {2, 1})
T.allclose(p(X, 0.5):col(1), Y:col(2), 0, "project")
T.eq(field.project(f, 2).codim, 1)

-- errors from inside the user's function surface as the user's own
local ok, err = pcall(f.eval, field.fn(function() error("my own message") end, {dim = 1}), {0})
assert(not ok and err:find("my own message", 1, true), err)
local ok2, err2 = pcall(function() return field.fn(function(x) return x / 0 end, {dim = 1})({1}) end)
assert(not ok2 and err2:find("returned Inf at point 1", 1, true), err2)

-- the documented example of field.fn
local swirl = field.fn(function(x)
  local r2 = (x * x):sum(2):reshape(#x, 1)
  return array.concat({-x:col(2):reshape(#x, 1), x:col(1):reshape(#x, 1)}, 2) / (1 + r2)
end, {dim = 2})
T.allclose(swirl{1, 0}, {0, 0.5}, 1e-15, "swirl example")

print("field ok")
