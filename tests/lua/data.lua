-- Module data: shapes, determinism (seed, stream, prefix, threads), the
-- distributions of the toy sets against closed forms, manifold geometry and
-- noise, and data.toy_density against the samples.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local N = 100000

-- mean of the values v[i] (a Lua list) and its standard error
local function mean_se(v)
  local s, s2, n = 0, 0, #v
  for i = 1, n do s = s + v[i]; s2 = s2 + v[i] * v[i] end
  local m = s / n
  return m, math.sqrt(math.max(s2 / n - m * m, 0) / n)
end

-- E g(row) within 5 standard errors of expect
local function moment(rows, g, expect, what)
  local v = {}
  for i, r in ipairs(rows) do v[i] = g(r[1], r[2]) end
  local m, se = mean_se(v)
  if not (math.abs(m - expect) <= 5 * se) then
    error(string.format("%s: %.6g +- %.2g, expected %.6g", what, m, se, expect), 2)
  end
end

-- names and shapes
local names = data.names()
T.eq(table.concat(names, ","), "8gaussians,checkerboard,2spirals,moons,swissroll,circles,pinwheel,rings")
for _, name in ipairs(names) do
  local x = data.toy(name, 37, { seed = 1 })
  T.eq(x.ndim, 2, name .. " ndim"); T.eq(x.shape[1], 37, name .. " rows"); T.eq(x.shape[2], 2, name .. " cols")
end
T.eq(data.toy("moons", 0).shape[1], 0, "n = 0")

-- determinism: same seed identical, other seed/stream different, prefix, threads
for _, name in ipairs(names) do
  local a = data.toy(name, 2000, { seed = 11 })
  T.eq((a - data.toy(name, 2000, { seed = 11 })):abs():max(), 0, name .. " same seed")
  T.eq((a:slice { { 1, 1000 } } - data.toy(name, 1000, { seed = 11 })):abs():max(), 0, name .. " prefix")
  assert((a - data.toy(name, 2000, { seed = 12 })):abs():min() > 0, name .. ": another seed repeats numbers")
  assert((a - data.toy(name, 2000, { seed = 11, stream = 1 })):abs():min() > 0, name .. ": another stream repeats numbers")
  T.eq((data.toy(name, 5, { seed = 11, stream = 0 }) - a:slice { { 1, 5 } }):abs():max(), 0, name .. " stream 0 is the default")
end
local u1, u2 = data.toy("rings", 100), data.toy("rings", 100)
assert((u1 - u2):abs():max() > 0, "successive unseeded draws must differ")
local saved = fieldlab.threads()
fieldlab.set_threads(1)
local one = data.toy("pinwheel", 30000, { seed = 5 })
local m1 = data.manifold("sphere", 30000, { dim = 5, noise = 0.1, seed = 5 })
fieldlab.set_threads(2)
T.eq((one - data.toy("pinwheel", 30000, { seed = 5 })):abs():max(), 0, "1 vs 2 threads")
T.eq((m1 - data.manifold("sphere", 30000, { dim = 5, noise = 0.1, seed = 5 })):abs():max(), 0,
  "manifold: 1 vs 2 threads")
fieldlab.set_threads(saved)

-- 8gaussians: mixture of N(4 u_k/1.414, (0.5/1.414)^2 I), weights 1/8:
-- mean 0, E x^2 = E y^2 = (radius^2/2 + std^2) = (8 + 0.25)/1.414^2, E xy = 0
local g = data.toy("8gaussians", N, { seed = 1 }):totable()
local m2 = (16 / 2 + 0.25) / 1.414 ^ 2
moment(g, function(x) return x end, 0, "8gaussians E x")
moment(g, function(_, y) return y end, 0, "8gaussians E y")
moment(g, function(x) return x * x end, m2, "8gaussians E x^2")
moment(g, function(_, y) return y * y end, m2, "8gaussians E y^2")
moment(g, function(x, y) return x * y end, 0, "8gaussians E xy")

-- checkerboard: only black squares (floor(x/2) + floor(y/2) even) in [-4, 4)^2,
-- each of the 8 filled with ~ n/8 points
local count = {}
for _, p in ipairs(data.toy("checkerboard", N, { seed = 2 }):totable()) do
  local x, y = p[1], p[2]
  assert(x >= -4 and x < 4 and y >= -4 and y < 4, "checkerboard point outside [-4, 4)^2")
  local i, j = math.floor(x / 2), math.floor(y / 2)
  assert((i + j) % 2 == 0, string.format("checkerboard point (%g, %g) in a white square", x, y))
  local key = i .. "," .. j
  count[key] = (count[key] or 0) + 1
end
local nsq = 0
for _, c in pairs(count) do
  nsq = nsq + 1
  T.near(c, N / 8, 5 * math.sqrt(N / 8 * 7 / 8) / (N / 8), "checkerboard square count")
end
T.eq(nsq, 8, "checkerboard squares")

-- 2spirals: E x = 0 (the two arms are negatives), E|x|^2 from t = 3 pi sqrt(U)
local s = data.toy("2spirals", N, { seed = 3 }):totable()
local ets = 2 * (9 * math.pi ^ 2 - 4) / (9 * math.pi ^ 2)
local ed2 = 9 * math.pi ^ 2 / 2 + 0.5 * 4 / (3 * math.pi) + 0.5 * ets + 2 / 12
moment(s, function(x) return x end, 0, "2spirals E x")
moment(s, function(x, y) return x * x + y * y end, ed2 / 9 + 0.02, "2spirals E|x|^2")

-- moons: E x = 0, E y = 2 (1/4) - 0.2, ranges
local mo = data.toy("moons", N, { seed = 4 })
moment(mo:totable(), function(x) return x end, 0, "moons E x")
moment(mo:totable(), function(_, y) return y end, 0.3, "moons E y")
assert(mo:col(1):abs():max() < 3 + 1.2 and mo:col(2):min() > -2.4 and mo:col(2):max() < 3.0, "moons range")

-- circles: radii 3 and 1.5 with noise 0.24: E|x|^2 exact, radial histogram
-- peaks at 1.5 and 3 with a gap between
local c = data.toy("circles", N, { seed = 6 }):totable()
moment(c, function(x, y) return x * x + y * y end, (9 + 2.25) / 2 + 2 * 0.24 ^ 2, "circles E|x|^2")
local h = {}
for b = 0, 39 do h[b] = 0 end
for _, p in ipairs(c) do
  local b = math.floor(math.sqrt(p[1] ^ 2 + p[2] ^ 2) / 0.125)
  if b < 40 then h[b] = h[b] + 1 end
end
local p1, p2 = 0, 20
for b = 0, 17 do if h[b] > h[p1] then p1 = b end end
for b = 20, 39 do if h[b] > h[p2] then p2 = b end end
T.near((p1 + 0.5) * 0.125, 1.5, 0.125, "inner circle peak")
T.near((p2 + 0.5) * 0.125, 3.0, 0.125, "outer circle peak")
assert(h[18] < h[p1] / 5 and h[18] < h[p2] / 5, "no gap between the circles")

-- pinwheel: 5 arms: 5 peaks in the angle histogram, 72 degrees apart
local NB = 60
local ah = {}
for b = 0, NB - 1 do ah[b] = 0 end
for _, p in ipairs(one:totable()) do
  local b = math.min(NB - 1, math.floor((math.atan(p[2], p[1]) + math.pi) / (2 * math.pi) * NB))
  ah[b] = ah[b] + 1
end
local sm, mean, peaks = {}, 30000 / NB, {}
for b = 0, NB - 1 do sm[b] = (ah[(b - 1) % NB] + ah[b] + ah[(b + 1) % NB]) / 3 end
for b = 0, NB - 1 do
  if sm[b] > sm[(b - 1) % NB] and sm[b] >= sm[(b + 1) % NB] and sm[b] > 1.5 * mean then peaks[#peaks + 1] = b end
end
T.eq(#peaks, 5, "pinwheel arms")
for k = 1, 5 do
  local gap = (peaks[k % 5 + 1] - peaks[k]) % NB
  assert(math.abs(gap - NB / 5) <= 1, "pinwheel arms not 72 degrees apart")
end

-- rings: 4 rings of radius 3, 2.25, 1.5, 0.75 (noise 0.08): every point near one
for _, p in ipairs(data.toy("rings", 20000, { seed = 8 }):totable()) do
  local r = math.sqrt(p[1] ^ 2 + p[2] ^ 2)
  local k = math.floor((3.375 - r) / 0.75)
  assert(k >= 0 and k <= 3 and math.abs(r - (3 - 0.75 * k)) < 0.5, "rings: point on no ring")
end

-- manifolds
T.eq(data.manifold_dim("circle"), 1); T.eq(data.manifold_dim("sphere"), 2); T.eq(data.manifold_dim("swissroll"), 2)
T.eq(table.concat(data.manifold("circle", 3).shape, ","), "3,2", "circle default dim")
T.eq(table.concat(data.manifold("swissroll", 3).shape, ","), "3,3", "swissroll default dim")
local ci = data.manifold("circle", 5000, { dim = 4, radius = 2, seed = 1 })
T.allclose(ci:slice { {}, { 1, 2 } }:norm(2), array.full(5000, 2), 1e-12, "circle |x| = radius")
T.eq(ci:slice { {}, { 3, 4 } }:abs():max(), 0, "circle zero padding")
local sp = data.manifold("sphere", 5000, { seed = 2, radius = 0.5 })
T.allclose(sp:norm(2), array.full(5000, 0.5), 1e-12, "sphere |x| = radius")
-- with noise: off-manifold coordinates have mean 0 and variance noise^2
local nz = data.manifold("sphere", N, { dim = 6, noise = 0.2, seed = 3 })
for j = 4, 6 do
  local col = nz:col(j)
  T.near(col:mean(), 0, 5 * 0.2 / math.sqrt(N), "off-manifold mean")
  T.near((col * col):mean(), 0.04, 5 * 0.04 * math.sqrt(2 / N), "off-manifold variance")
end

-- errors
T.raises(function() data.toy("gaussians", 10) end, "data.toy: unknown toy data set 'gaussians'", "valid: 8gaussians")
T.raises(function() data.toy("moons", -1) end, "non-negative integer")
T.raises(function() data.toy("moons", 1.5) end, "non-negative integer")
T.raises(function() data.toy("moons", 10, { seeds = 1 }) end, "unknown option 'seeds'")
T.raises(function() data.toy("moons", 10, { seed = -1 }) end, "option 'seed' must be a non-negative integer")
T.raises(function() data.manifold("torus", 10) end, "data.manifold: unknown manifold 'torus'", "circle, sphere, swissroll")
T.raises(function() data.manifold("sphere", 10, { dim = 2 }) end, "dim 2 is less than 3")
T.raises(function() data.manifold("circle", 10, { noise = -1 }) end, "noise")
T.raises(function() data.manifold_dim("cube") end, "unknown manifold 'cube'")
T.raises(function() data.toy_density("moons") end, "data.toy_density: 'moons' has no closed-form density", "8gaussians")
T.raises(function() data.toy_density("mooons") end, "unknown toy data set 'mooons'")

-- toy_density: the log density is higher at the centres than between them,
-- and the moments of exp(log p), by quadrature on a grid, equal those of the
-- samples.
do
  local p = data.toy_density("8gaussians")
  T.eq(p.k, 8, "components"); T.eq(p.dim, 2, "dimension")
  T.allclose(p.weights, array.full(8, 1 / 8), 1e-15, "weights")
  -- log p at points (n-by-2 array) as a Lua list
  local function logp(pts) return p:log_density(pts):totable() end
  local r = 4 / 1.414
  local at = {}
  for k = 0, 7 do
    local a = k * math.pi / 4
    at[#at + 1] = { r * math.cos(a), r * math.sin(a) }                     -- a centre
    at[#at + 1] = { r * math.cos(a + math.pi / 8), r * math.sin(a + math.pi / 8) } -- between two
  end
  local lp = logp(array.from(at))
  local sd2 = (0.5 / 1.414) ^ 2
  for k = 1, 16, 2 do
    assert(lp[k] > lp[k + 1] + 1, "log density not higher at a centre than between centres")
    -- at a centre the own component dominates: log p = log(1/8) - log(2 pi sd^2) (+ tiny)
    T.near(lp[k], math.log(1 / 8) - math.log(2 * math.pi * sd2), 1e-6, "log p at a centre")
  end
  -- moments of p by the trapezoid rule on [-5, 5]^2 (spectrally accurate here)
  local h, pts = 0.05, {}
  for i = -100, 100 do for j = -100, 100 do pts[#pts + 1] = { i * h, j * h } end end
  local lv = logp(array.from(pts))
  local mass, mx, mxx = 0, 0, 0
  for i, q in ipairs(pts) do
    local w = math.exp(lv[i]) * h * h
    mass = mass + w; mx = mx + w * q[1]; mxx = mxx + w * q[1] * q[1]
  end
  T.near(mass, 1, 1e-7, "density integrates to 1")
  moment(g, function(x) return x end, mx, "8gaussians E x vs density")
  moment(g, function(x) return x * x end, mxx, "8gaussians E x^2 vs density")
  T.near(mxx, m2, 1e-6, "density second moment")
end
