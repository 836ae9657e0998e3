-- field.gmm / field.gaussian: densities against closed forms, derivatives
-- against central differences, normalisation by quadrature, sampling against
-- the mixture moments, and the misuse errors.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- the FFJORD 8 Gaussians
local c = {}
for k = 0, 7 do
  local a = k * math.pi / 4
  c[#c + 1] = {4 * math.cos(a) / 1.414, 4 * math.sin(a) / 1.414}
end
local v8 = (0.5 / 1.414) ^ 2
local g8 = field.gmm{means = c, covs = v8}
T.eq(g8.dim, 2); T.eq(g8.k, 8)
T.allclose(g8.weights, {1/8, 1/8, 1/8, 1/8, 1/8, 1/8, 1/8, 1/8}, 1e-15)
T.eq(table.concat(g8.covs.shape, ","), "8,2,2")
T.near(g8.covs:get(3, 2, 2), v8, 1e-15); T.eq(g8.covs:get(3, 1, 2), 0)
T.eq(tostring(g8), "fieldlab.GMM(k=8, dim=2)")

-- a mixture with full covariances and unequal weights
local gf = field.gmm{
  means = {{1, 0.5}, {-1.5, 1}, {0, -2}},
  covs = {{{0.4, 0.15}, {0.15, 0.2}}, {{0.3, -0.1}, {-0.1, 0.6}}, {{0.1, 0}, {0, 0.5}}},
  weights = {5, 3, 2}}
T.allclose(gf.weights, {0.5, 0.3, 0.2}, 1e-15)

-- one Gaussian against the closed form
local S = {{0.7, -0.2}, {-0.2, 0.4}}
local mu = {1, -1}
local g1 = field.gaussian{mean = mu, cov = S}
local det = S[1][1] * S[2][2] - S[1][2] * S[2][1]
local X = array.randn({50, 2}, {seed = 3}) * 2
local lp, sc = g1:log_density(X), g1:score(X)
for i = 1, 50 do
  local d0, d1 = X:get(i, 1) - mu[1], X:get(i, 2) - mu[2]
  local u0, u1 = (S[2][2] * d0 - S[1][2] * d1) / det, (-S[2][1] * d0 + S[1][1] * d1) / det
  T.near(lp[i], -0.5 * (d0 * u0 + d1 * u1) - math.log(2 * math.pi) - 0.5 * math.log(det), 1e-13, "Gaussian log p")
  T.near(sc:get(i, 1), -u0, 1e-12, "Gaussian score"); T.near(sc:get(i, 2), -u1, 1e-12, "Gaussian score")
end
T.near(g1:density{1, -1}, 1 / (2 * math.pi * math.sqrt(det)), 1e-14, "peak density")
T.eq(type(g1:log_density{0, 0}), "number")
T.eq(table.concat(g1:score{0, 0}.shape, ","), "2")
-- a 3-D Gaussian: diagonal covariance = product of 1-D densities
local g3 = field.gaussian{mean = {0, 1, 2}, cov = {1, 4, 0.25}}
local ld = g3:log_density{1, 1, 1}
T.near(ld, -1.5 * math.log(2 * math.pi) - 0.5 * math.log(1 * 4 * 0.25) - 0.5 * (1 + 0 + 4), 1e-14, "diag 3-D")

-- covariance forms agree: K scalars, one number, shared cov, K-by-d diagonals, full
local m2 = {{0, 0}, {2, 1}}
local ref = field.gmm{means = m2, covs = {{{0.5, 0}, {0, 0.5}}, {{0.5, 0}, {0, 0.5}}}}
local P = array.randn({20, 2}, {seed = 4})
for _, g in ipairs{field.gmm{means = m2, covs = {0.5, 0.5}}, field.gmm{means = m2, covs = 0.5},
                   field.gmm{means = m2, cov = 0.5}, field.gmm{means = m2, cov = {{0.5, 0}, {0, 0.5}}},
                   field.gmm{means = m2, cov = {0.5, 0.5}}} do
  T.allclose(g:log_density(P), ref:log_density(P), 1e-14, "covariance forms")
end
local m3 = {{0, 0}, {2, 1}, {-1, 1}}
T.allclose(field.gmm{means = m3, covs = {{1, 2}, {3, 4}, {0.5, 0.5}}}.covs[2],
  {{3, 0}, {0, 4}}, 0, "K-by-d diagonals")
T.allclose(field.gmm{means = m3, covs = {{1, 0.5}, {0.5, 2}}}.covs[3], {{1, 0.5}, {0.5, 2}}, 0, "shared d-by-d")
T.allclose(field.gmm{means = m3}.covs[1], {{1, 0}, {0, 1}}, 0, "default identity")

-- score = central differences of log p (1e-6 relative), at random points
local function fd_check(g, npts, seed)
  local d = g.dim
  local Y = array.randn({npts, d}, {seed = seed}) * 1.5
  local s = g:score(Y)
  local h = 1e-5
  for a = 1, d do
    local e = array.zeros{1, d}; e:set(1, a, h)
    local fd = (g:log_density(Y + e) - g:log_density(Y - e)) / (2 * h)
    for i = 1, npts do T.near(s:get(i, a), fd[i], 1e-6, "score vs differences") end
  end
  -- Jacobian of the score field = differences of the score, symmetric
  local sf = g:score_field()
  local J = sf:jacobian(Y)
  T.eq(J.exact, true)
  for b = 1, d do
    local e = array.zeros{1, d}; e:set(1, b, h)
    local fd = (g:score(Y + e) - g:score(Y - e)) / (2 * h)
    for i = 1, npts do
      for a = 1, d do
        T.near(J:get(i, a, b), fd:get(i, a), 1e-6, "score Jacobian vs differences")
        T.eq(J:get(i, a, b), J:get(i, b, a), "symmetric Jacobian")
      end
    end
  end
  -- Laplacian of log p = trace of the Jacobian = second differences
  local lap = g:logp():laplacian(Y)
  local dv = sf:div(Y)
  local h2 = 1e-4
  local l0 = g:log_density(Y)
  local sd = array.zeros{npts}
  for a = 1, d do
    local e = array.zeros{1, d}; e:set(1, a, h2)
    sd = sd + (g:log_density(Y + e) - l0 * 2 + g:log_density(Y - e)) / (h2 * h2)
  end
  for i = 1, npts do
    local tr = 0
    for a = 1, d do tr = tr + J:get(i, a, a) end
    T.near(lap[i], tr, 1e-12, "Laplacian = trace")
    T.near(dv[i], lap[i], 1e-12, "div score = Laplacian")
    T.near(sd[i], lap[i], 1e-5, "Laplacian vs second differences")
  end
  -- the logp field: value, exact gradient and Hessian
  local lf = g:logp()
  T.eq(lf.kind, "gmm_logp"); T.eq(sf.kind, "gmm_score"); T.eq(lf.codim, 1); T.eq(sf.codim, d)
  T.allclose(lf(Y):reshape(npts), g:log_density(Y), 0, "logp field")
  local Jl = lf:jacobian(Y)
  T.eq(Jl.exact, true)
  T.allclose(Jl:reshape(npts, d), s, 0, "gradient of logp = score")
  T.allclose(lf:hessian(Y), J, 0, "Hessian of logp = score Jacobian")
end
fd_check(g8, 40, 5)
fd_check(gf, 40, 6)
fd_check(field.gmm{means = {{0, 0, 0}, {1, 1, 1}}, covs = {{{1, 0.3, 0}, {0.3, 1, 0.2}, {0, 0.2, 0.5}}, {{0.5, 0, 0}, {0, 1, 0}, {0, 0, 2}}}}, 20, 7)

-- the density integrates to 1: trapezoid rule on [-7,7]^2, h = 0.02
local function integral(g)
  local n = 701
  local ax = array.linspace(-7, 7, n)
  local GX, GY = array.meshgrid(ax, ax)
  local pts = array.stack({GX:reshape(n * n), GY:reshape(n * n)}, 2)
  local p = g:density(pts):reshape(n, n)
  local w = array.ones{n}; w[1] = 0.5; w[n] = 0.5
  local h = 14 / (n - 1)
  return w:matmul(p):dot(w) * h * h
end
T.near(integral(g8), 1, 1e-6, "8 Gaussians integrate to 1")
T.near(integral(gf), 1, 1e-6, "full-covariance mixture integrates to 1")

-- sampling: 1e5 samples, moments within 5 standard errors
local n = 100000
local Z = gf:sample(n, {seed = 11})
T.eq(table.concat(Z.shape, ","), n .. ",2")
local W, M, C = gf.weights, gf.means, gf.covs
local mean = {0, 0}
for k = 1, 3 do for a = 1, 2 do mean[a] = mean[a] + W[k] * M:get(k, a) end end
local cov = {{0, 0}, {0, 0}}
for k = 1, 3 do for a = 1, 2 do for b = 1, 2 do
  cov[a][b] = cov[a][b] + W[k] * (C:get(k, a, b) + (M:get(k, a) - mean[a]) * (M:get(k, b) - mean[b]))
end end end
local zm = Z:mean(1)
for a = 1, 2 do
  local se = math.sqrt(cov[a][a] / n)
  assert(math.abs(zm[a] - mean[a]) < 5 * se, string.format("sample mean %d: %g vs %g (se %g)", a, zm[a], mean[a], se))
end
for a = 1, 2 do for b = 1, 2 do
  local prod = (Z:col(a) - mean[a]) * (Z:col(b) - mean[b])
  local est, se = prod:mean(), prod:std() / math.sqrt(n)
  assert(math.abs(est - cov[a][b]) < 5 * se, string.format("sample cov %d%d: %g vs %g (se %g)", a, b, est, cov[a][b], se))
end end
-- reproducible by seed, different by stream, and independent of the thread count
T.allclose(gf:sample(1000, {seed = 11}), Z:slice{{1, 1000}}, 0, "same seed, same samples")
assert((gf:sample(1000, {seed = 11, stream = 1}) - Z:slice{{1, 1000}}):abs():max() > 0.1, "another stream differs")
local th = fieldlab.threads()
fieldlab.set_threads(1)
T.allclose(gf:sample(n, {seed = 11}), Z, 0, "one thread, same samples")
fieldlab.set_threads(th)
-- without a seed: a fresh stream each time
assert((gf:sample(10) - gf:sample(10)):abs():max() > 0, "unseeded draws differ")
-- one Gaussian: the samples are mean + L z with z = array.randn of the same seed
local L = array.cholesky(S)
local z = array.randn({5, 2}, {seed = 2, stream = 3})
T.allclose(g1:sample(5, {seed = 2, stream = 3}), z:matmul(L:t()) + array.from{mu}, 1e-14, "mean + L z")

-- far from every mode: finite values, the dominant component's score
local far = array.from{{1e3, 1e3}, {-1e3, 2e3}}
local lf, sf = g8:log_density(far), g8:score(far)
for i = 1, 2 do assert(lf[i] == lf[i] and lf[i] > -math.huge, "finite log p far away") end
local cr = 4 / math.sqrt(2) / 1.414
T.near(sf:get(1, 1), -(1e3 - cr) / v8, 1e-9, "far-away score")
local J = g8:score_field():jacobian(far)
for i = 1, 2 do for a = 1, 2 do for b = 1, 2 do local v = J:get(i, a, b); assert(v == v, "NaN in far-away Jacobian") end end end
T.near(g8:logp():laplacian{1e3, 1e3}, -2 / v8, 1e-6, "far-away Laplacian")

-- misuse
T.raises(function() field.gmm{means = {{0, 0}, {1, 1}}, covs = {{{1, 0}, {0, 1}}, {{1, 2}, {2, 1}}}} end,
  "field.gmm", "component 2", "not positive definite")
T.raises(function() field.gmm{means = {{0, 0}, {1, 1}}, weights = {1, -1}} end, "weight 2 is negative")
T.raises(function() field.gmm{means = {{0, 0}, {1, 1}}, weights = {1, 2, 3}} end, "'weights' must hold 2 numbers")
T.raises(function() field.gmm{means = {{0, 0 / 0}}} end, "non-finite")
T.raises(function() field.gmm{means = {{0, 0}, {1, 1}}, covs = {{1, 0}, {0, 1}}} end, "ambiguous", "'cov'")
T.raises(function() field.gmm{means = {{0, 0}, {1, 1}}, covs = {1, 2, 3}} end, "has shape (3)")
T.raises(function() field.gmm{means = {{0, 0}}, covs = 1, cov = 1} end, "not both")
T.raises(function() field.gmm{mean = {0, 0}} end, "unknown option 'mean'")
T.raises(function() field.gaussian{mean = {0, 0}, cov = {{1, 0.5}, {0.4, 1}}} end, "not symmetric")
T.raises(function() g8:score{1, 2, 3} end, "3 coordinates", "takes 2")
T.raises(function() g8:sample(-1) end, "non-negative")
T.raises(function() g8:sample(5, {sed = 1}) end, "unknown option 'sed'")
local gc = field.gmm{means = {{0, 0}}}
local keep = gc:score_field()
gc:close()
T.raises(function() gc:score{0, 0} end, "closed")
T.allclose(keep{1, 1}, {-1, -1}, 1e-15, "a field outlives its closed GMM")
