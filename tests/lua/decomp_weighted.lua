-- decomp.weighted: the density-weighted (gauge) decomposition v = grad phi + r,
-- div(p r) = 0, on a periodic grid (against an analytic split, with the
-- convergence order) and from samples (reference V4, Monte-Carlo rate).
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local pi = math.pi
local k1, k2 = 0.7, 0.4

-- p = exp(k1 cos x + k2 cos y); phi* = sin x cos 2y + 0.3 cos(x + y);
-- r* = (1/p) perp grad(p psi), psi = cos(x - 2y) + 0.5 sin y: div(p r*) = 0.
local density = field.fn(function(x)
  return (x:col(1):cos() * k1 + x:col(2):cos() * k2):exp()
end, { dim = 2, codim = 1 })

local function phistar(x)
  local a, b = x:col(1), x:col(2)
  return a:sin() * (b * 2):cos() + (a + b):cos() * 0.3
end

local v = field.fn(function(x)
  local a, b = x:col(1), x:col(2)
  local gx = a:cos() * (b * 2):cos() - (a + b):sin() * 0.3
  local gy = a:sin() * (b * 2):sin() * -2 - (a + b):sin() * 0.3
  local psi = (a - b * 2):cos() + b:sin() * 0.5
  local px = -(a - b * 2):sin()
  local py = (a - b * 2):sin() * 2 + b:cos() * 0.5
  local rx = -(py - b:sin() * psi * k2)
  local ry = px - a:sin() * psi * k1
  return array.stack({ gx + rx, gy + ry }, 2)
end, { dim = 2 })

local function grid(n)
  return field.grid{ n = { n, n }, box = { 0, 2 * pi }, periodic = true }
end

local function phi_error(d, g)
  local x = g:points()
  local N = x.shape[1]
  return (d.phi.values:reshape(N) - phistar(x)):abs():max()
end

-- ---- grid, FD: order 2 under refinement, residual below tol ----
local errs, ns = {}, { 32, 64, 128 }
for i, n in ipairs(ns) do
  local g = field.sample(v, grid(n))
  local d = decomp.weighted(g, density)
  T.eq(d.kind, "grid", "kind")
  assert(d.residual <= 1e-10, "CG residual " .. d.residual)
  assert(d.iterations > 2 and d.iterations < 100, "iterations " .. d.iterations)
  errs[i] = phi_error(d, g)
  -- the energies add up and the parts are p-orthogonal
  local e = d:energies()
  T.near(e.gradient + e.gauge + 2 * e.cross, e.total, 1e-12, "energy split")
  assert(math.abs(d.orthogonality) <= 1e-9 * e.total, "orthogonality " .. d.orthogonality)
  T.near(e.gradient_fraction + e.gauge_fraction, 1, 1e-9, "fractions")
  -- independent check: the central-difference divergence of p r (field's own
  -- grid_div, order 2) is zero to the CG tolerance, relative to that of p v
  if n == 64 then
    local pn = d.density:reshape(n, n, 1)
    local dpr = field.grid{ n = { n, n }, box = { 0, 2 * pi }, periodic = true, values = d.gauge.values * pn }
    local dpv = field.grid{ n = { n, n }, box = { 0, 2 * pi }, periodic = true, values = g.values * pn }
    local a = dpr:grid_div{ method = "fd", order = 2 }.values
    local b = dpv:grid_div{ method = "fd", order = 2 }.values
    local rel = a:norm() / b:norm()
    assert(rel <= 1.01e-10, "discrete div(p r) relative " .. rel)
    T.near(rel, d.residual, 1e-12, "residual is |D(p r)| / |D(p v)|")
    -- gradient + gauge = v at the nodes
    T.allclose(d.gradient.values + d.gauge.values, g.values, 1e-14, "v = grad phi + r")
    assert(e.gauge > 0.5 and e.gradient > 0.3, "both parts are present")
  end
end
for i = 1, 2 do
  local order = math.log(errs[i] / errs[i + 1], 2)
  assert(order > 1.85 and order < 2.2, string.format("FD order %g (errors %g, %g)", order, errs[i], errs[i + 1]))
end
assert(errs[3] < 3e-3, "FD error at n = 128: " .. errs[3])

-- ---- grid, spectral: exponential convergence ----
do
  local g = field.sample(v, grid(48))
  local d = decomp.weighted(g, density, { method = "spectral", tol = 1e-12 })
  local err = phi_error(d, g)
  assert(err < 1e-10, "spectral phi error " .. err)
  assert(d.residual <= 1e-12)
  T.eq(d.method, "spectral", "method")
  -- E_p|r*|^2 and E_p|grad phi*|^2 by direct quadrature
  local x = g:points()
  local pw = density(x):reshape(48 * 48)
  local gr = d.gradient.values:reshape(48 * 48, 2)
  local eg = ((gr * gr):sum(2) * pw):sum() / pw:sum()
  T.near(d:energies().gradient, eg, 1e-12, "gradient energy")
end

-- ---- the density as a Field, a grid and a GMM give the same split ----
do
  local g = field.sample(v, grid(32))
  local a = decomp.weighted(g, density)
  local b = decomp.weighted(g, field.sample(density, grid(32)))
  T.allclose(a.phi.values, b.phi.values, 1e-13, "density as Field vs grid")
  local gm = field.gaussian{ mean = { pi, pi }, cov = 4 }
  local c = decomp.weighted(g, gm)
  local pg = field.grid{ n = { 32, 32 }, box = { 0, 2 * pi }, periodic = true, components = 1,
                         values = gm:density(g:points()):reshape(32, 32) }
  local c2 = decomp.weighted(g, pg)
  T.allclose(c.phi.values, c2.phi.values, 1e-12, "density as GMM vs its node values")
  T.eq(c.iterations, c2.iterations, "same CG run")
  -- the same v under another density: a different split, same total
  assert((c.phi.values - a.phi.values):abs():max() > 1e-3, "the density matters")
end

-- ---- samples: reference V4 ----
-- p = N(0, I), v = (x, 1) + (x y, 1 - x^2): the L2(p) gradient part is (x, 1).
local v4 = field.fn(function(x)
  local a, b = x:col(1), x:col(2)
  return array.stack({ a + a * b, 2 - a * a }, 2)
end, { dim = 2 })
-- coefficients in graded order x, y, x^2, xy, y^2, x^3, x^2y, xy^2, y^3
local want = array.from{ 0, 1, 0.5, 0, 0, 0, 0, 0, 0 }
local mc = {}
for i, n in ipairs{ 1000, 10000, 100000 } do
  local s2 = 0
  for seed = 1, 3 do
    local xs = array.randn({ n, 2 }, { seed = seed })
    local d = decomp.weighted(v4, xs)
    T.eq(d.kind, "samples", "kind")
    T.eq(d.coefficients.shape[1], 9, "9 monomials")
    local diff = d.coefficients - want
    s2 = s2 + (diff * diff):sum()
    -- in sample the normal equations make grad phi and r orthogonal exactly
    local e = d:energies()
    T.near(e.gradient + e.gauge, e.total, 1e-10, "in-sample split")
    assert(math.abs(e.cross) < 1e-10 * e.total)
    if n == 100000 and seed == 1 then
      -- on held-out samples: orthogonality within 4 standard errors, the
      -- exact energies E|grad phi*|^2 = 2, E|r*|^2 = 3 within 4 standard errors
      local h = decomp.weighted(v4, xs, { holdout = 0.5 })
      local eh = h:energies()
      T.eq(h.nfit, 50000, "nfit")
      assert(math.abs(h.orthogonality) < 4 * h.orthogonality_se,
        string.format("held-out orthogonality %g +- %g", h.orthogonality, h.orthogonality_se))
      assert(math.abs(eh.gradient - 2) < 4 * eh.gradient_se + 0.01, "E|grad phi|^2 " .. eh.gradient)
      assert(math.abs(eh.gauge - 3) < 4 * eh.gauge_se + 0.01, "E|r|^2 " .. eh.gauge)
      -- phi is a scalar Field with exact derivatives; gradient and gauge are Fields
      local pt = array.from{ { 0.3, -0.4 }, { 1.2, 0.5 } }
      local J = d.phi:jacobian(pt)
      assert(J.exact, "exact gradient")
      T.allclose(d.gradient(pt), array.from{ { 0.3, 1 }, { 1.2, 1 } }, 0.02, "grad phi = (x, 1)")
      T.allclose(d.gauge(pt), v4(pt) - d.gradient(pt), 1e-14, "r = v - grad phi")
      local H = d.phi:hessian(pt)
      assert(H.exact, "exact Hessian")
      T.near(H[1]:get(1, 1), 2 * d.coefficients:get(3) + 6 * d.coefficients:get(6) * 0.3
        + 2 * d.coefficients:get(7) * -0.4, 1e-12, "Hessian from the coefficients")
      T.allclose(d.values.gradient, d.gradient(xs), 1e-13, "values at the samples")
    end
  end
  mc[i] = math.sqrt(s2 / 3)
end
-- Monte-Carlo rate n^(-1/2): each factor 10 in n shrinks the error ~3.16 times
for i = 1, 2 do
  local r = mc[i] / mc[i + 1]
  assert(r > 1.8 and r < 5.5, string.format("MC error ratio %g (errors %g, %g)", r, mc[i], mc[i + 1]))
end
assert(mc[3] < 0.03, "V4 error at n = 1e5: " .. mc[3])

-- ---- samples: Fourier features ----
do
  local xs = array.randn({ 4000, 2 }, { seed = 4 })
  local d = decomp.weighted(v4, xs, { basis = "fourier", features = 100, scale = 3, seed = 5 })
  T.eq(d.coefficients.shape[1], 100, "features")
  T.eq(d.frequencies.shape[1], 100, "frequencies")
  local gx = d.values.gradient
  local diff = gx - array.stack({ xs:col(1), array.ones{ 4000 } }, 2)
  local rms = math.sqrt((diff * diff):sum() / 4000)
  assert(rms < 0.15, "Fourier fit of (x, 1): rms " .. rms)
  -- seeded: the same draw twice, another seed differs
  local d2 = decomp.weighted(v4, xs, { basis = "fourier", features = 100, scale = 3, seed = 5 })
  T.allclose(d2.coefficients, d.coefficients, 0, "seeded")
  local d3 = decomp.weighted(v4, xs, { basis = "fourier", features = 100, scale = 3, seed = 6 })
  assert((d3.frequencies - d.frequencies):abs():max() > 0.1)
end

-- ---- printing and saving ----
do
  local g = field.sample(v, grid(16))
  local d = decomp.weighted(g, density)
  local s = tostring(d)
  assert(s:find("CG: %d+ iterations") and s:find("E_p|r|^2", 1, true), s)
  local dir = os.tmpname()
  os.remove(dir)
  local files = d:save(dir)
  T.eq(#files, 4, "grid files")
  T.allclose(array.load(dir .. "/phi.npy"), d.phi.values, 0, "phi.npy")
  T.allclose(array.load(dir .. "/gauge.npy"), d.gauge.values, 0, "gauge.npy")
  for _, f in ipairs(files) do os.remove(f) end
  local xs = array.randn({ 200, 2 }, { seed = 9 })
  local ds = decomp.weighted(v4, xs, { degree = 2 })
  assert(tostring(ds):find("+-", 1, true))
  files = ds:save(dir)
  T.allclose(array.load(dir .. "/coefficients.npy"), ds.coefficients, 0, "coefficients.npy")
  T.allclose(array.load(dir .. "/gauge.npy"), ds.gauge(xs), 1e-14, "gauge.npy")
  for _, f in ipairs(files) do os.remove(f) end
  os.remove(dir)
end

-- a field that is already weighted-divergence-free (Taylor-Green, constant p):
-- phi = 0 at once, all energy in the gauge part, no failed CG
do
  local tg = field.sample(field.taylor_green{}, {n = {32, 32}, box = {{0, 2 * math.pi}, {0, 2 * math.pi}},
    periodic = true})
  local one = field.fn(function(x) return array.ones(#x) end, {dim = 2, codim = 1})
  local r = decomp.weighted(tg, one)
  T.eq(r.iterations, 0, "no iterations for a zero right-hand side")
  T.near(r:energies().gauge_fraction, 1, 1e-12, "all of a divergence-free field is gauge")
  T.eq(r.gradient.values:abs():max(), 0, "gradient part exactly zero")
end
