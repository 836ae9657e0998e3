-- module metric: values against closed forms, standard errors against the
-- spread over repeated seeds, options and determinism.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local function gauss(n, d, sd, shift, seed)
  local x = array.randn({n, d}, {seed = seed}) * sd
  if shift then x = x + array.from(shift) end
  return x
end

-- mean and sample std of a list
local function stats(v)
  local s, s2 = 0, 0
  for _, a in ipairs(v) do s = s + a end
  local mu = s / #v
  for _, a in ipairs(v) do s2 = s2 + (a - mu) ^ 2 end
  return mu, math.sqrt(s2 / (#v - 1))
end

-- the reported SE is the real spread: mean SE / empirical std within [lo, hi]
local function se_matches(vals, ses, lo, hi, what)
  local _, sd = stats(vals)
  local mse = stats(ses)
  local r = mse / sd
  assert(r > lo and r < hi, string.format("%s: mean SE / std over repeats = %.3f", what, r))
end

---------------------------------------------------------------- MMD
-- N(0, s^2 I) vs N(mu, s^2 I), bandwidth h: closed form
do
  local s, h, mu = 0.8, 1.3, {0.5, -0.3}
  local x, y = gauss(1500, 2, s, nil, 1), gauss(1200, 2, s, mu, 2)
  local v, se, info = metric.mmd(x, y, {bandwidth = h})
  local c = h * h / (h * h + 2 * s * s)
  local pop = 2 * c * (1 - math.exp(-(0.25 + 0.09) / (2 * (h * h + 2 * s * s))))
  assert(se > 0 and se < 0.15 * pop, "MMD SE " .. se)
  T.near(v, pop, 3 * se / math.max(1, pop), "MMD^2 vs closed form")
  T.eq(info.bandwidth[1], h, "bandwidth reported")
  T.eq(info.n, 1500); T.eq(info.m, 1200)
  -- same distribution: within 3 SE of 0
  local v0, se0 = metric.mmd(x, gauss(1000, 2, s, nil, 3), {bandwidth = h})
  assert(math.abs(v0) < 3 * se0, string.format("same law: MMD^2 %g, SE %g", v0, se0))
end

-- unbiased: the mean over 60 seeds matches the population value; SE = spread
do
  local h, mu = 1.0, {0.8}
  local pop = 2 * (1 / 3) ^ 0.5 * (1 - math.exp(-0.64 / 6))
  local vals, ses = {}, {}
  for r = 1, 60 do
    local v, se = metric.mmd(gauss(60, 1, 1, nil, 100 + r), gauss(50, 1, 1, mu, 200 + r), {bandwidth = h})
    vals[r], ses[r] = v, se
  end
  local mean, sd = stats(vals)
  T.near(mean, pop, 3 * sd / math.sqrt(60), "mean of MMD^2 over seeds")
  se_matches(vals, ses, 1 / 1.5, 1.5, "MMD SE")
end

-- median heuristic: the pooled median pairwise distance; multi-bandwidth is a sum of kernels
do
  local x, y = array.from{{0}, {1}, {3}}, array.from{{6}, {10}}
  -- distances 1 3 6 10 2 5 9 3 7 4, sorted 1 2 3 3 4 5 6 7 9 10: median (4 + 5) / 2
  local _, _, info = metric.mmd(x, y)
  T.near(info.bandwidth[1], 4.5, 1e-15, "median heuristic")
  local a, b = gauss(30, 2, 1, nil, 5), gauss(40, 2, 1, {1, 0}, 6)
  local v1 = metric.mmd(a, b, {bandwidth = 0.5})
  local v2 = metric.mmd(a, b, {bandwidth = 2})
  local v12 = metric.mmd(a, b, {bandwidth = {0.5, 2}})
  T.near(v12, v1 + v2, 1e-13, "multi-bandwidth = sum")
  -- a 1-D array is n points in R^1, like an n-by-1 array
  local u = array.randn(50, {seed = 7})
  local w = array.randn(40, {seed = 8})
  T.near(metric.mmd(u, w, {bandwidth = 1}), metric.mmd(u:reshape(50, 1), w:reshape(40, 1), {bandwidth = 1}), 0)
end

---------------------------------------------------------------- energy distance
do
  local s1, s2, dm = 1.0, 1.5, 0.7
  local x, y = gauss(3000, 1, s1, nil, 11), gauss(2500, 1, s2, {dm}, 12)
  local v, se = metric.energy_distance(x, y)
  local s = math.sqrt(s1 ^ 2 + s2 ^ 2)
  -- erf by its series (|z| < 0.5 here)
  local z = dm / (s * math.sqrt(2))
  local erf, term = 0, z
  for k = 0, 30 do
    erf = erf + term / (2 * k + 1)
    term = -term * z * z / (k + 1)
  end
  erf = erf * 2 / math.sqrt(math.pi)
  local exy = s * math.sqrt(2 / math.pi) * math.exp(-dm ^ 2 / (2 * s ^ 2)) + dm * erf
  local pop = 2 * exy - 2 * (s1 + s2) / math.sqrt(math.pi)
  T.near(v, pop, 3 * se, "energy distance vs closed form")
  local v0, se0 = metric.energy_distance(x, gauss(2000, 1, s1, nil, 13))
  assert(math.abs(v0) < 3 * se0, "same law: energy " .. v0 .. " SE " .. se0)
end

---------------------------------------------------------------- two-sample test
do
  local x = gauss(100, 2, 1, nil, 21)
  local p = metric.two_sample(x, gauss(100, 2, 1, {1.5, 0}, 22), {permutations = 99, seed = 1})
  T.eq(p, 0.01, "a clear shift gets the smallest p-value")
  local small = 0
  for r = 1, 20 do
    local pr = metric.two_sample(gauss(40, 2, 1, nil, 300 + r), gauss(40, 2, 1, nil, 400 + r),
      {permutations = 99, seed = r, test = r % 2 == 0 and "energy" or "mmd"})
    assert(pr > 0 and pr <= 1)
    if pr < 0.05 then small = small + 1 end
  end
  assert(small <= 5, "same law rejected " .. small .. " times in 20 at 5%")
  local p1, s1 = metric.two_sample(x, gauss(80, 2, 1, nil, 23), {seed = 4})
  local p2, s2 = metric.two_sample(x, gauss(80, 2, 1, nil, 23), {seed = 4})
  T.eq(p1, p2, "same seed, same p-value"); T.eq(s1, s2)
  T.near(s1, (metric.mmd(x, gauss(80, 2, 1, nil, 23))), 1e-12, "statistic = metric.mmd")
end

---------------------------------------------------------------- sliced W2
do
  -- quantile matching for unequal sizes: {0,1} vs {0,1,2} -> 1/6 + 1/3
  local v, se = metric.sliced_w2({0, 1}, {2, 0, 1}, {projections = 3})
  T.near(v, 0.5, 1e-15, "1-D W2^2 with n != m"); T.near(se, 0, 1e-15)
  -- N(0, I) vs N(mu, I): E (u.mu)^2 = |mu|^2 / d
  local mu = {1, -1, 0.5}
  local x, y = gauss(4000, 3, 1, nil, 31), gauss(4000, 3, 1, mu, 32)
  local sw, sse = metric.sliced_w2(x, y, {projections = 1500, seed = 2})
  -- against the sample mean difference (the sampling noise of the means is
  -- larger than the SE over directions), and loosely against the population
  local dm = y:mean(1) - x:mean(1)
  T.near(sw, (dm * dm):sum() / 3, 3 * sse + 0.01, "SW2^2 = |mu_hat|^2/d")
  T.near(sw, 2.25 / 3, 0.12, "SW2^2 = |mu|^2/d")
  -- SE over directions = spread over direction seeds
  local vals, ses = {}, {}
  for r = 1, 50 do vals[r], ses[r] = metric.sliced_w2(x, y, {projections = 32, seed = 100 + r}) end
  se_matches(vals, ses, 1 / 1.5, 1.5, "sliced W2 SE")
  local a = metric.sliced_w2(x, y, {seed = 9})
  T.eq(a, (metric.sliced_w2(x, y, {seed = 9})), "seeded directions")
end

---------------------------------------------------------------- Gaussian W2 (V13)
do
  -- commuting covariances: |m1-m2|^2 + sum (sqrt l1 - sqrt l2)^2, in a rotated basis
  local c, s = math.cos(0.4), math.sin(0.4)
  local Q = array.from{{c, -s}, {s, c}}
  local function rot(l1, l2) return Q:matmul(array.from{{l1, 0}, {0, l2}}):matmul(Q:t()) end
  local w, se = metric.w2_gaussian({1, 2}, rot(2, 0.5), {0, 4}, rot(1, 3))
  local ref = 1 + 4 + (math.sqrt(2) - 1) ^ 2 + (math.sqrt(0.5) - math.sqrt(3)) ^ 2
  T.near(w, ref, 1e-12, "W2^2 commuting"); T.eq(se, 0)
  -- 2x2: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)) for M = S2^1/2 S1 S2^1/2
  local A, B = array.from{{2, 0.7}, {0.7, 1}}, array.from{{1, -0.4}, {-0.4, 0.5}}
  local trAB = (A * B):sum()
  local ref2 = 2 + 1 + 1 + 0.5 - 2 * math.sqrt(trAB + 2 * math.sqrt(array.det(A) * array.det(B)))
  T.near((metric.w2_gaussian({0, 0}, A, {0, 0}, B)), ref2, 1e-12, "W2^2 non-commuting")
  T.near((metric.w2_gaussian({0}, 4, {1}, 9)), 1 + 1, 1e-12, "1-D: (m1-m2)^2 + (s1-s2)^2")
  -- fitted to samples: N(0, diag(1, 4)) vs N((1, 0), diag(4, 1)) -> 3
  local x = array.randn({5000, 2}, {seed = 41}) * array.from{1, 2}
  local y = array.randn({5000, 2}, {seed = 42}) * array.from{2, 1} + array.from{1, 0}
  local v, fse = metric.w2_gaussian_fit(x, y, {seed = 1})
  assert(fse > 0 and fse < 0.2)
  T.near(v, 3, 3 * fse + 0.01, "fitted W2^2")
end

---------------------------------------------------------------- histogram KL
do
  local x = gauss(20000, 2, 1, nil, 51)
  local v = metric.kl_hist(x, x, {bootstrap = 10})
  T.near(v, 0, 1e-15, "KL of identical samples")
  -- KL(N(0,1) || N(0.5, 1.2^2))
  local n = 100000
  local a, b = gauss(n, 1, 1, nil, 52), gauss(n, 1, 1.2, {0.5}, 53)
  local kl = math.log(1.2) + (1 + 0.25) / (2 * 1.44) - 0.5
  local k, se = metric.kl_hist(a, b, {bins = 60, range = {-6, 6.5}, seed = 1})
  assert(se > 0 and se < 0.01)
  T.near(k, kl, 3 * se + 0.003, "histogram KL vs analytic")
  -- bootstrap SE vs the spread over 50 seeds
  local vals, ses = {}, {}
  for r = 1, 50 do
    vals[r], ses[r] = metric.kl_hist(gauss(3000, 1, 1, nil, 500 + r), gauss(3000, 1, 1.2, {0.5}, 600 + r),
      {bins = 20, range = {-6, 6.5}, bootstrap = 100, seed = r})
  end
  se_matches(vals, ses, 1 / 1.5, 1.5, "KL bootstrap SE")
end

---------------------------------------------------------------- mean log-likelihood
do
  -- samples of p: the mean estimates -H(p); H of N(m, S) = d/2 (1 + log 2 pi) + 1/2 log det S
  local S = {{2, 0.5}, {0.5, 1}}
  local g = field.gaussian{mean = {1, -1}, cov = S}
  local H = 1 + math.log(2 * math.pi) + 0.5 * math.log(2 - 0.25)
  local x = g:sample(20000, {seed = 1})
  local m, se = metric.mean_loglik(x, g)
  T.near(m, -H, 3 * se, "mean log-likelihood vs entropy")
  T.near(se, math.sqrt(0.5 * 2 / 20000), 0.05 * se, "SE = sqrt(Var log p / n), Var = d/2")
  local m2, se2 = metric.mean_loglik(x, g:logp())
  T.eq(m2, m, "Field and GMM agree"); T.eq(se2, se)
  local m3 = metric.mean_loglik(x, function(p) return g:log_density(p) end)
  T.eq(m3, m, "function")
  -- a mixture: SE over 50 seeds
  local mix = field.gmm{means = {{-2, 0}, {2, 0}}, covs = 0.5}
  local vals, ses = {}, {}
  for r = 1, 50 do vals[r], ses[r] = metric.mean_loglik(mix:sample(500, {seed = r}), mix) end
  se_matches(vals, ses, 1 / 1.5, 1.5, "mean_loglik SE")
end

---------------------------------------------------------------- errors caught here
T.raises(function() metric.mmd(array.zeros{5, 2}, array.zeros{5, 3}) end, "metric.mmd", "dimension 2 (x) and 3 (y)")
T.raises(function() metric.sliced_w2(array.zeros{5, 2}, array.zeros{5, 2}, {projection = 3}) end, "unknown option 'projection'")
T.raises(function() metric.kl_hist(array.zeros{5, 3}, array.zeros{5, 3}) end, "1-D or 2-D")
T.raises(function() metric.mean_loglik(array.zeros{5, 2}, 3) end, "density")
