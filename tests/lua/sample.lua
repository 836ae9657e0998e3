-- sample: orders of the PF-ODE samplers on V1 (Gaussian data), V6
-- exactness (point mass), log-likelihoods exact and Hutchinson (V1, V10),
-- DPM-Solver++(2M) on the exact noised 8-Gaussians by a two-sample test,
-- FlowChef against the exact GMM posterior (V9), SDE samplers, seeds and
-- threads, records, CFG.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local function slope(errs, Ns)
  local sx, sy, sxx, sxy, n = 0, 0, 0, 0, #Ns
  for i = 1, n do
    local x, y = math.log(1 / Ns[i]), math.log(errs[i])
    sx, sy, sxx, sxy = sx + x, sy + y, sxx + x * x, sxy + x * y
  end
  return (n * sxy - sx * sy) / (n * sxx - sx * sx)
end

-- V1: data N(mu, diag(lam)); per coordinate y = x - alpha mu scales by
-- sqrt((alpha_t^2 lam + sigma_t^2) / (alpha_s^2 lam + sigma_s^2)).
local mu, lam = {1, -0.5}, {0.5, 2}
local gauss = field.gaussian{mean = mu, cov = lam}
local xT = array.randn({16, 2}, {seed = 3})
local function exact_flow(sch, s, t, x)
  local as, ss, at, st = sch:alpha(s), sch:sigma(s), sch:alpha(t), sch:sigma(t)
  local out = array.zeros{x.shape[1], 2}
  for i = 1, x.shape[1] do
    for j = 1, 2 do
      local c = math.sqrt((at ^ 2 * lam[j] + st ^ 2) / (as ^ 2 * lam[j] + ss ^ 2))
      out[i][j] = at * mu[j] + c * (x[i][j] - as * mu[j])
    end
  end
  return out
end

local vp = diffusion.vp()
local pv = vp:noised(gauss)
local tmin = 1e-3
local want = exact_flow(vp, 1, tmin, xT)
local cases = {
  {"euler", 1, 100, "t", pv.velocity, "velocity"},
  {"heun", 2, 50, "t", pv.velocity, "velocity"},
  {"rk4", 4, 25, "t", pv.velocity, "velocity"},
  {"dpm2", 2, 10, "logsnr", pv.score, "score"},
  {"dpm++2m", 2, 40, "logsnr", pv.score, "score"},
}
for _, c in ipairs(cases) do
  local errs, Ns = {}, {}
  for l = 0, 3 do
    local N = c[3] * 2 ^ l
    local x, info = sample.ode{field = c[5], kind = c[6], schedule = vp, x_T = xT, solver = c[1], steps = N,
                               grid = c[4], t_min = tmin}
    T.eq(info.steps, N, c[1] .. " steps")
    Ns[#Ns + 1] = N
    errs[#errs + 1] = (x - want):abs():max()
  end
  local p = slope(errs, Ns)
  assert(math.abs(p - c[2]) <= 0.15, string.format("%s: fitted order %.3f (errors %g .. %g)", c[1], p, errs[1], errs[#errs]))
end

-- the same endpoint whatever the parametrisation the field predicts
do
  local a = sample.ode{field = pv.velocity, schedule = vp, x_T = xT, solver = "dpm++2m", steps = 20, t_min = tmin}
  local b = sample.ode{field = pv.score, kind = "score", schedule = vp, x_T = xT, solver = "dpm++2m", steps = 20, t_min = tmin}
  T.allclose(a, b, 1e-10, "dpm++2m from velocity vs score")
  local e = sample.ode{field = pv.velocity, schedule = vp, x_T = xT, solver = "rk45", t_min = tmin, rtol = 1e-10, atol = 1e-12}
  T.allclose(e, want, 1e-7, "rk45 vs the exact flow")
end

-- Heun on the linear path to t = 0: the last step is Euler (NFE 2N - 1)
do
  local lin = diffusion.linear()
  local pl = lin:noised(gauss)
  local x, info = sample.ode{field = pl.velocity, schedule = lin, x_T = xT, solver = "heun", steps = 10}
  T.eq(info.nfe, 19, "heun NFE with the EDM last-step rule")
  T.eq(info.grid[11], 0, "grid ends at t = 0")
  local x2 = sample.ode{field = pl.velocity, schedule = lin, x_T = xT, solver = "heun", steps = 80}
  local w0 = exact_flow(lin, 1, 0, xT)
  local e1, e2 = (x - w0):abs():max(), (x2 - w0):abs():max()
  assert(e2 < e1 / 30, string.format("heun with the Euler last step converges at 2nd order: %g then %g", e1, e2))
end

-- V6: point mass at m, linear path, a field predicting x0 = m: Euler and
-- DDIM are exact for any step count.
do
  local m = {0.7, -1.3}
  local x0f = field.linear{A = {{0, 0}, {0, 0}}, b = m}
  local lin = diffusion.linear()
  local mm = array.from{m}
  for _, steps in ipairs{1, 3, 7} do
    for _, s in ipairs{"euler", "ddim", "dpm++1"} do
      local x = sample.ode{field = x0f, kind = "x0", schedule = lin, x_T = xT, solver = s, steps = steps, t_min = 0.25, grid = "t"}
      -- x_t - m = (t / 1) (x_1 - m)
      local want6 = xT * 0.25 + array.ones{16, 1}:matmul(mm) * 0.75
      T.allclose(x, want6, 4e-15, s .. " exact on V6 with " .. steps .. " steps")
    end
  end
end

-- log-likelihood, exact divergence: linear path (prior N(0, I) exact at t = 1)
do
  local g = field.gaussian{mean = {0.5, -1}, cov = {{1.5, 0.4}, {0.4, 0.6}}}
  local lin = diffusion.linear()
  local pl = lin:noised(g)
  local x = g:sample(20, {seed = 4})
  local lp = sample.loglik{field = pl.velocity, schedule = lin, x = x, rtol = 1e-11, atol = 1e-12}
  T.eq(lp.exact, true, "exact divergence")
  T.allclose(lp, g:log_density(x), 1e-6, "log-likelihood, linear path")
  local lp4 = sample.loglik{field = pl.score, kind = "score", schedule = lin, x = x, steps = 400, t_min = 1e-6,
                              t_max = 0.999, prior = pl.logp}
  T.allclose(lp4, pl.at(1e-6):log_density(x), 1e-6, "log-likelihood from the score, RK4")
  -- VP with the exact prior p_1
  local pvp = vp:noised(g)
  local lpv = sample.loglik{field = pvp.velocity, schedule = vp, x = x, prior = pvp.logp, rtol = 1e-11, atol = 1e-12}
  T.allclose(lpv, pvp.at(vp.t_min):log_density(x), 1e-6, "log-likelihood, VP")
  -- Hutchinson: the mean agrees within 3 standard errors
  local lh, se = sample.loglik{field = pl.velocity, schedule = lin, x = x, method = "hutchinson", nprobes = 16, seed = 2,
                               rtol = 1e-9}
  local diff, var = (lh - lp):mean(), (se * se):sum() / 400
  assert(math.abs(diff) <= 3 * math.sqrt(var), string.format("hutchinson mean off by %g (se %g)", diff, math.sqrt(var)))
  assert(se:min() > 0, "hutchinson standard errors are positive")
end

-- V10: v = M x on [0, 1]: each probe's integral is e^T M e; variance
-- 2 |sym M|^2 (Gaussian), 2 (|sym M|^2 - sum M_ii^2) (Rademacher)
do
  local M = field.linear{A = {{1, 2}, {0.5, -1}}}
  local lin = diffusion.linear()
  local x = array.randn({4000, 2}, {seed = 9})
  local ex = sample.loglik{field = M, schedule = lin, x = x, steps = 4}
  for _, c in ipairs{{"gaussian", 10.25}, {"rademacher", 6.25}} do
    local K = 4
    local lh, se = sample.loglik{field = M, schedule = lin, x = x, method = "hutchinson", probes = c[1], nprobes = K,
                                 seed = 5, steps = 4}
    local v = (se * se):mean() * K
    T.near(v, c[2], 0.08, c[1] .. " probe variance (V10)")
    local bias = (lh - ex):mean()
    assert(math.abs(bias) < 4 * math.sqrt(c[2] / K / 4000), c[1] .. " Hutchinson bias " .. bias)
  end
end

-- DPM-Solver++(2M), 20 steps, exact noised 8-Gaussians: a two-sample test
-- against exact samples passes; the same sampler with the score's sign
-- flipped fails it.
do
  local g = data.toy_density("8gaussians")
  local pt = vp:noised(g)
  local ref = g:sample(1000, {seed = 11})
  local xs = sample.ode{field = pt.score, kind = "score", schedule = vp, n = 1000, solver = "dpm++2m", steps = 20, seed = 12}
  local p = metric.two_sample(xs, ref, {permutations = 200, seed = 1})
  assert(p > 0.01, "dpm++2m samples differ from the mixture: p = " .. p)
  local mmd = metric.mmd(xs, ref)
  local mmd0 = metric.mmd(g:sample(1000, {seed = 13}), ref)
  assert(mmd < mmd0 + 0.002, string.format("MMD %g vs two exact sets %g", mmd, mmd0))
  local bad = sample.ode{field = -pt.score, kind = "score", schedule = vp, n = 1000, solver = "dpm++2m", steps = 20, seed = 12}
  local pb = metric.two_sample(bad, ref, {permutations = 200, seed = 1})
  assert(pb < 0.01, "a sign error in the score goes unnoticed: p = " .. pb)
end

-- FlowChef on a 2-D GMM prior with y = A x + n (V9): closer to the exact
-- posterior than the unsteered prior samples
do
  local g = field.gmm{means = {{-2, 0}, {2, 1}}, covs = 0.3, weights = {0.6, 0.4}}
  local meas = {A = {{1, 1}}, y = {1.5}, noise = 0.5}
  local post = sample.gmm_posterior(g, meas)
  T.near(post.weights[2], 0.99583509, 1e-6, "posterior weight (V9)")
  local lin = diffusion.linear()
  local v = lin:noised(g).velocity
  local ps = post:sample(1500, {seed = 21})
  local x, info = sample.flowchef{field = v, cost = meas, n = 1500, steps = 50, lr = 0.05, seed = 22}
  local x0 = sample.ode{field = v, schedule = lin, n = 1500, solver = "euler", steps = 50, seed = 22}
  local d1, d0 = metric.mmd(x, ps), metric.mmd(x0, ps)
  assert(d1 < d0 / 3, string.format("FlowChef MMD to the posterior %g, unsteered %g", d1, d0))
  T.eq(info.nfe, 50, "FlowChef: one field evaluation per step")
  -- a Lua cost gives the same as the built-in one
  local xl = sample.flowchef{field = v, n = 1500, steps = 50, lr = 0.05, seed = 22, cost = function(z)
    local r = z:matmul(array.from{{1}, {1}}) - 1.5
    return (r * r):sum() * 2, r:matmul(array.from{{4, 4}})
  end}
  T.allclose(xl, x, 1e-12, "Lua cost vs built-in")
end

-- SDE samplers reach the 8-Gaussians; same seed, same paths with 1 and 2 threads
do
  local g = data.toy_density("8gaussians")
  local pt = vp:noised(g)
  local ref = g:sample(800, {seed = 31})
  for _, c in ipairs{{"euler_maruyama", 400}, {"ddpm", 200}, {"pc", 200}} do
    local xs = sample.sde{field = pt.score, kind = "score", schedule = vp, n = 800, solver = c[1], steps = c[2], seed = 32}
    local p = metric.two_sample(xs, ref, {permutations = 200, seed = 2})
    assert(p > 0.01, c[1] .. " samples differ: p = " .. p)
  end
  local edm = diffusion.edm()
  local pe = edm:noised(g)
  local xs = sample.sde{field = pe.score, kind = "score", schedule = edm, n = 800, solver = "edm", steps = 40,
                        S_churn = 20, seed = 33}
  assert(metric.two_sample(xs, ref, {permutations = 200, seed = 2}) > 0.01, "edm sampler")
  local th = fieldlab.threads()
  fieldlab.set_threads(1)
  local a = sample.sde{field = pt.score, kind = "score", schedule = vp, n = 5000, solver = "pc", steps = 20, seed = 7}
  local a2 = sample.sde{field = pt.score, kind = "score", schedule = vp, n = 5000, solver = "euler_maruyama", steps = 20, seed = 7}
  fieldlab.set_threads(2)
  local b = sample.sde{field = pt.score, kind = "score", schedule = vp, n = 5000, solver = "pc", steps = 20, seed = 7}
  local b2 = sample.sde{field = pt.score, kind = "score", schedule = vp, n = 5000, solver = "euler_maruyama", steps = 20, seed = 7}
  fieldlab.set_threads(th)
  T.eq((a - b):abs():max(), 0, "pc: same paths with 1 and 2 threads")
  T.eq((a2 - b2):abs():max(), 0, "euler_maruyama: same paths with 1 and 2 threads")
end

-- records and grids
do
  local x, info = sample.ode{field = pv.velocity, schedule = vp, x_T = xT, solver = "ddim", steps = 10, record = 5}
  T.eq(table.concat(info.trajectory.shape, ","), "3,16,2", "trajectory shape")
  T.allclose(info.trajectory[3], x, 0, "last record is the result")
  local gr = sample.grid{schedule = vp, steps = 4, grid = "logsnr"}
  local l = vp:logsnr(gr)
  T.near(l[2] - l[1], l[5] - l[4], 1e-9, "log-SNR grid is uniform")
  local ge = sample.grid{schedule = diffusion.edm(), steps = 3, grid = "edm"}
  T.near(ge[2], (80 ^ (1 / 7) + (0.002 ^ (1 / 7) - 80 ^ (1 / 7)) / 3) ^ 7, 1e-12, "EDM grid")
end

-- CFG: w = 0 is the unconditional field, w = 1 the conditional one, linear in between
do
  local c, u = field.linear{A = {{1, 0}, {0, 1}}}, field.linear{A = {{0, 1}, {-1, 0}}}
  local f = sample.cfg(c, u, 3)
  T.allclose(f{1, 2}, c{1, 2} * 3 - u{1, 2} * 2, 1e-14, "cfg combination")
end
print("sample: ok")

-- FlowChef without gradient skipping (skip = false): the step is the full
-- gradient (I - t J)^T grad L of L(z - t v(z)); for a linear velocity
-- v = B z + b both forms are checked by hand (one steered step, t = 1)
do
  local B = { { 0.3, -0.7 }, { 0.2, 0.5 } }
  local v = field.linear{ A = B, b = { 0.1, -0.2 } }
  local meas = { A = { { 1, 2 } }, y = { 0.7 }, noise = 0.5 }
  local z0 = array.from{ { 0.4, -1.1 }, { 1.3, 0.2 } }
  local lr = 0.05
  local zf = sample.flowchef{ field = v, cost = meas, x_T = z0, steps = 1, steer_steps = 1, lr = lr, skip = false }
  local zs = sample.flowchef{ field = v, cost = meas, x_T = z0, steps = 1, steer_steps = 1, lr = lr }
  for i = 1, 2 do
    local x = { z0[i][1], z0[i][2] }
    local vx = { B[1][1] * x[1] + B[1][2] * x[2] + 0.1, B[2][1] * x[1] + B[2][2] * x[2] - 0.2 }
    local r = ((x[1] - vx[1]) + 2 * (x[2] - vx[2]) - 0.7) / 0.25
    local g = { r, 2 * r }
    local ge = { g[1] - (B[1][1] * g[1] + B[2][1] * g[2]), g[2] - (B[1][2] * g[1] + B[2][2] * g[2]) }
    for j = 1, 2 do
      T.near(zf[i][j], x[j] - lr * ge[j] - vx[j], 1e-14, "full gradient")
      T.near(zs[i][j], x[j] - lr * g[j] - vx[j], 1e-14, "gradient skipping")
    end
  end
  T.raises(function() sample.flowchef{ field = v, cost = meas, x_T = z0, steps = 1, skip = 1 } end)
end
