-- diffusion schedules against closed forms and central differences, exact
-- log-SNR inverses, parametrisation conversions, and the exact noised
-- mixture: normalisation, score by differences, the t -> 0 limit, the
-- continuity equation and the Gaussian closed form (reference V1).
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local vp, ve, edm, lin, cos_ = diffusion.vp(), diffusion.ve(), diffusion.edm(), diffusion.linear(), diffusion.cosine()
local all = {vp, ve, edm, lin, cos_}

-- properties and closed forms at known points
T.eq(vp.name, "vp"); T.eq(vp.b0, 0.1); T.eq(vp.b1, 20); T.eq(vp.t_min, 1e-5); T.eq(vp.t_max, 1); T.eq(vp.smin, nil)
T.eq(ve.smin, 0.01); T.eq(ve.smax, 50); T.eq(ve.b0, nil)
T.eq(edm.t_min, 0.002); T.eq(edm.t_max, 80)
T.eq(tostring(lin), "fieldlab.Schedule(linear, t in [0, 1])")
local a5 = math.exp(-0.25 * 0.25 * 19.9 - 0.025)
T.near(vp:alpha(0.5), a5, 1e-15); T.near(vp:sigma(0.5), math.sqrt(1 - a5 * a5), 1e-15)
T.near(vp:g2(0.3), 0.1 + 0.3 * 19.9, 1e-15); T.near(vp:f(0.3), -0.5 * (0.1 + 0.3 * 19.9), 1e-15)
local vp2 = diffusion.vp{b0 = 1, b1 = 1}  -- constant beta: alpha = exp(-t/2)
T.near(vp2:alpha(0.8), math.exp(-0.4), 1e-15)
T.near(ve:sigma(0.5), math.sqrt(0.01 * 50), 1e-14); T.eq(ve:alpha(0.5), 1); T.eq(ve:f(0.2), 0)
T.near(diffusion.ve{smin = 0.1, smax = 3}:sigma(1), 3, 1e-14)
T.eq(edm:sigma(7.5), 7.5); T.eq(edm:g2(2), 4)
T.eq(lin:alpha(0.25), 0.75); T.eq(lin:sigma(0.25), 0.25); T.near(lin:logsnr(0.25), math.log(3), 1e-15)
T.near(cos_:alpha(1 / 3), math.cos(math.pi / 6), 1e-15); T.near(cos_:sigma(1 / 3), 0.5, 1e-15)
T.near(cos_:logsnr(0.5), 0, 1e-15); T.near(cos_:g2(0.5), math.pi, 1e-15)

-- derivatives by central differences; f and g2 from their definitions;
-- logsnr = log(alpha/sigma); t_of_logsnr(logsnr(t)) = t to 1e-12 (Arrays)
for _, s in ipairs(all) do
  local lo = s.name == "vp" and 1e-3 or s.t_min + 1e-3 * (s.t_max - s.t_min)
  local hi = s.t_max - 1e-3 * (s.t_max - s.t_min)
  local ts = array.linspace(lo, hi, 41)
  local a, sg, da, ds = s:alpha(ts), s:sigma(ts), s:dalpha(ts), s:dsigma(ts)
  local h = ts * 1e-5
  local fda = (s:alpha(ts + h) - s:alpha(ts - h)) / (h * 2)
  local fds = (s:sigma(ts + h) - s:sigma(ts - h)) / (h * 2)
  for i = 1, 41 do
    local sc = math.max(1, math.abs(ds[i]))
    assert(math.abs(fda[i] - da[i]) < 1e-7 * sc, s.name .. " dalpha vs differences at " .. ts[i])
    assert(math.abs(fds[i] - ds[i]) < 1e-7 * sc, s.name .. " dsigma vs differences at " .. ts[i])
  end
  T.allclose(s:f(ts), da / a, 1e-13, s.name .. " f = alpha'/alpha")
  T.allclose(s:g2(ts), sg * ds * 2 - da / a * sg * sg * 2, 1e-12, s.name .. " g2 definition")
  T.allclose(s:logsnr(ts), (a / sg):log(), 1e-13, s.name .. " logsnr")
  local back = s:t_of_logsnr(s:logsnr(ts))
  T.allclose((back - ts) / ts, array.zeros{41}, 1e-12, s.name .. " t_of_logsnr(logsnr(t))")
  T.eq(type(s:alpha(0.5)), "number")
  T.allclose(s:sigma{0.2, 0.4}, {s:sigma(0.2), s:sigma(0.4)}, 0, "a table of times")
end
T.near(vp:t_of_logsnr(vp:logsnr(1e-6)) / 1e-6, 1, 1e-12, "VP inverse near t = 0")
-- the reference's VP inverse formula, typed out
local lam = 1.3
local Lg = -0.5 * math.log(1 + math.exp(-2 * lam))
T.near(vp:t_of_logsnr(lam), (-0.1 + math.sqrt(0.01 - 4 * 19.9 * Lg)) / 19.9, 1e-13, "VP inverse formula")
T.near(lin:t_of_logsnr(lam), 1 / (1 + math.exp(lam)), 1e-15, "linear inverse formula")

-- conversions: eps -> x0 -> score -> velocity -> eps is the identity
local X = array.randn({30, 2}, {seed = 1})
local E = array.randn({30, 2}, {seed = 2})
for _, s in ipairs(all) do
  local t = 0.7 * s.t_min + 0.3 * s.t_max
  local x0 = s:convert(E, X, t, "eps", "x0")
  local sc = s:convert(x0, X, t, "x0", "score")
  local v = s:convert(sc, X, t, "score", "velocity")
  T.allclose(s:convert(v, X, t, "velocity", "eps"), E, 1e-11, s.name .. " round trip")
  T.allclose(x0 * s:alpha(t) + E * s:sigma(t), X, 1e-12, s.name .. " x = alpha x0 + sigma eps")
  T.allclose(sc, E * (-1 / s:sigma(t)), 1e-12, s.name .. " s = -eps/sigma")
  T.allclose(v, X * s:f(t) - sc * (0.5 * s:g2(t)), 1e-10, s.name .. " v = f x - g2/2 s")
  T.allclose(s:convert(E, X, t, "eps", "eps"), E, 0)
  if s.name == "linear" then
    T.allclose(v, (X + sc * t) * (-1 / (1 - t)), 1e-12, "linear: v = -(x + t s)/(1-t)")
    T.allclose(s:convert(v, X, t, "velocity", "x0"), X - v * t, 1e-12, "linear: x0 = x - t v")
  end
end

-- noised mixtures: the 8 Gaussians and a full-covariance mixture
local c = {}
for k = 0, 7 do
  local a = k * math.pi / 4
  c[#c + 1] = {4 * math.cos(a) / 1.414, 4 * math.sin(a) / 1.414}
end
local g8 = field.gmm{means = c, covs = (0.5 / 1.414) ^ 2}
local gf = field.gmm{means = {{1, 0.5}, {-1.5, 1}, {0, -2}},
  covs = {{{0.4, 0.15}, {0.15, 0.2}}, {{0.3, -0.1}, {-0.1, 0.6}}, {{0.1, 0}, {0, 0.5}}}, weights = {5, 3, 2}}

local n = 601
local ax = array.linspace(-9, 9, n)
local GX, GY = array.meshgrid(ax, ax)
local grid = array.stack({GX:reshape(n * n), GY:reshape(n * n)}, 2)
local wq = array.ones{n}; wq[1] = 0.5; wq[n] = 0.5
local hq = 18 / (n - 1)

local P = array.from{{0.3, -0.7}, {2.0, 1.0}, {-1.2, -2.2}, {0.05, 0.02}}
for _, g in ipairs{g8, gf} do
  for _, s in ipairs{vp, lin} do
    local pt = s:noised(g)
    T.eq(pt.logp.time_dependent, true); T.eq(pt.velocity.kind, "noised_velocity")
    for _, t in ipairs{0.05, 0.5, 0.9} do
      -- log p_t integrates to 1
      local p = pt.logp(grid, t):reshape(n, n):exp()
      T.near(wq:matmul(p):dot(wq) * hq * hq, 1, 1e-6, s.name .. " p_t integrates to 1 at t = " .. t)
      -- the score is the gradient of log p_t (differences) and the GMM at t agrees
      local sc = pt.score(P, t)
      for a = 1, 2 do
        local e = array.zeros{1, 2}; e:set(1, a, 1e-5)
        local fd = (pt.logp(P + e, t) - pt.logp(P - e, t)) / 2e-5
        for i = 1, 4 do T.near(sc:get(i, a), fd:get(i, 1), 1e-6, "noised score vs differences") end
      end
      T.allclose(pt.at(t):score(P), sc, 1e-14, "at(t):score = score field")
      -- continuity: d/dt log p_t + div v + v . s = 0
      local ht = 1e-5
      local dlogp = (pt.logp(P, t + ht) - pt.logp(P, t - ht)):reshape(4) / (2 * ht)
      local v = pt.velocity(P, t)
      local dv = pt.velocity:div(P, t)
      T.eq(dv.exact, true)
      local res = dlogp + dv + (v * sc):sum(2)
      for i = 1, 4 do
        local scale = math.abs(dlogp[i]) + math.abs(dv[i]) + 1
        assert(math.abs(res[i]) < 1e-6 * scale,
          string.format("%s t = %g point %d: continuity residual %g", s.name, t, i, res[i]))
      end
      -- the velocity Jacobian against differences
      local J = pt.velocity:jacobian(P, t)
      T.eq(J.exact, true)
      for b = 1, 2 do
        local e = array.zeros{1, 2}; e:set(1, b, 1e-6)
        local fd = (pt.velocity(P + e, t) - pt.velocity(P - e, t)) / 2e-6
        for i = 1, 4 do for a = 1, 2 do T.near(J:get(i, a, b), fd:get(i, a), 1e-6, "velocity Jacobian") end end
      end
    end
  end
end

-- t -> t_min: p_t approaches the data mixture
local ptv = vp:noised(gf)
local d0 = (ptv.logp(P, vp.t_min):reshape(4) - gf:log_density(P)):abs():max()
assert(d0 > 0 and d0 < 2e-4, "VP at t_min: log p_t - log p = " .. d0)
assert((ptv.logp(P, 1e-9):reshape(4) - gf:log_density(P)):abs():max() < 1e-8, "VP at t = 1e-9")
T.allclose(lin:noised(gf).logp(P, 0):reshape(4), gf:log_density(P), 1e-14, "linear at t = 0")
local at = ptv.at(0.5)
T.allclose(at.means, gf.means * vp:alpha(0.5), 1e-15, "means of p_t")
T.allclose(at.covs[1], gf.covs[1] * vp:alpha(0.5) ^ 2 + array.eye(2) * vp:sigma(0.5) ^ 2, 1e-15, "covs of p_t")

-- reference V1: Gaussian data, closed-form score and velocity for every schedule
local mu, S = {1.5, -0.5}, {{0.8, 0.3}, {0.3, 0.5}}
local gg = field.gaussian{mean = mu, cov = S}
for _, s in ipairs(all) do
  local t = s.t_min + 0.35 * (s.t_max - s.t_min)
  local al, sg, da, ds = s:alpha(t), s:sigma(t), s:dalpha(t), s:dsigma(t)
  local C = array.from(S) * al ^ 2 + array.eye(2) * sg ^ 2
  local pt = s:noised(gg)
  local Y = array.randn({10, 2}, {seed = 9})
  local D = Y - array.from{mu} * al
  local sref = -array.solve(C, D:t()):t()
  T.allclose(pt.score(Y, t), sref, 1e-12, s.name .. " V1 score")
  local cv = da * sg * sg / al - ds * sg
  T.allclose(pt.velocity(Y, t), Y * (da / al) + sref * cv, 1e-10, s.name .. " V1 velocity")
  local Ci = array.solve(C, array.eye(2))
  T.allclose(pt.score:jacobian(Y, t)[3], -Ci, 1e-12, s.name .. " V1 score Jacobian")
end
-- linear path at t = 1 (alpha = 0): the velocity is finite, v = x - mean
T.allclose(lin:noised(gg).velocity(P, 1), P - array.from{mu}, 1e-14, "velocity at t = 1")

-- Schedule:score/velocity/eps/x0 of a field: the affine map of convert at
-- each t, with exact Jacobians and divergences carried over
do
  local m = net.mlp{dim = 2, hidden = {32, 32}, time = "concat", param = "eps", seed = 4}
  local sm = vp:score(m)
  T.eq(sm.kind, "predict"); T.eq(sm.time_dependent, true)
  local Y = array.randn({40, 2}, {seed = 11})
  for _, t in ipairs{1e-3, 0.3, 0.9} do
    local sg = vp:sigma(t)
    local want = m(Y, t) * (-1 / sg)
    T.allclose(sm(Y, t), want, 1e-14 * (1 / sg), "score of an eps network = -m/sigma at t = " .. t)
    local J, Jm = sm:jacobian(Y, t), m:jacobian(Y, t)
    T.eq(J.exact, true)
    T.allclose(J, Jm * (-1 / sg), 0, "Jacobian of the score = -J_m/sigma at t = " .. t)
    local dv = sm:div(Y, t)
    T.eq(dv.exact, true)
    for i = 1, 40 do
      T.near(dv[i], (Jm:get(i, 1, 1) + Jm:get(i, 2, 2)) * (-1 / sg), 1e-13 / sg, "divergence = -tr J_m/sigma")
    end
    -- to x0 and velocity and back through the Array conversion
    T.allclose(vp:x0(m)(Y, t), vp:convert(m(Y, t), Y, t, "eps", "x0"), 1e-13 / vp:alpha(t), "x0 of the network")
    T.allclose(vp:eps(vp:velocity(m), {from = "velocity"})(Y, t), m(Y, t), 1e-9, "eps of its velocity")
  end
  T.eq(vp:eps(m), m) -- nothing to convert: the network itself
  -- a network's Jacobian carries over to its velocity: J_v = f I + (sigma' - f sigma) J_eps (VP)
  local t = 0.4
  local Jv, Jm = vp:velocity(m):jacobian(Y, t), m:jacobian(Y, t)
  local cx = vp:convert(array.zeros{1, 1}, array.ones{1, 1}, t, "eps", "velocity")[1][1]
  local cp = vp:convert(array.ones{1, 1}, array.zeros{1, 1}, t, "eps", "velocity")[1][1]
  T.allclose(Jv, Jm * cp + array.eye(2):reshape(1, 2, 2) * cx, 1e-13, "Jacobian of the velocity")
  -- the exact noised-mixture score to the probability-flow velocity
  for _, s in ipairs{vp, lin, cos_} do
    local pt = s:noised(gf)
    for _, tt in ipairs{0.1, 0.5, 0.8} do
      local v = s:velocity(pt.score, {from = "score"})
      T.allclose(v(P, tt), pt.velocity(P, tt), 1e-12, s.name .. " velocity of the exact score at t = " .. tt)
      T.eq(v:jacobian(P, tt).exact, true)
      T.allclose(v:jacobian(P, tt), pt.velocity:jacobian(P, tt), 1e-11, s.name .. " its Jacobian")
      T.allclose(s:score(pt.velocity, {from = "velocity"})(P, tt), pt.score(P, tt), 1e-11, s.name .. " and back")
    end
  end
  -- sampling the converted field with kind = "score" is sampling the network with kind = "eps"
  for _, solver in ipairs{"euler", "dpm++2m"} do
    local a = sample.ode{field = sm, kind = "score", schedule = vp, n = 200, solver = solver, steps = 20, seed = 5}
    local b = sample.ode{field = m, kind = "eps", schedule = vp, n = 200, solver = solver, steps = 20, seed = 5}
    T.allclose(a, b, 1e-10, "sampling " .. solver .. ": score of the network = the network as eps")
  end
  T.raises(function() vp:score(42) end, "Field expected")
  T.raises(function() vp:score(vp:noised(gf).score) end, "Schedule:score", "records no parametrisation", "from")
  T.raises(function() vp:velocity(m, {from = "noise"}) end, "Schedule:velocity", "'noise'", "eps, x0, score, velocity")
  T.raises(function() vp:score(m, {form = "eps"}) end, "unknown option 'form'")
  T.raises(function() lin:x0(m)(Y, 1) end, "divides by")
end

-- misuse
T.raises(function() diffusion.vp{b0 = -1} end, "diffusion.vp", "b0")
T.raises(function() diffusion.ve{smin = 5, smax = 1} end, "smin < smax")
T.raises(function() diffusion.linear{t_max = 2} end, "at most 1")
T.raises(function() diffusion.vp{beta = 1} end, "unknown option 'beta'")
T.raises(function() lin:convert(E, X, 1, "eps", "x0") end, "divides by alpha = 0")
T.raises(function() lin:convert(E, X, 0.5, "eps", "v") end, "unknown parametrisation 'v'")
T.raises(function() lin:convert(E, X:slice{{1, 3}}, 0.5, "eps", "x0") end, "differ")
T.raises(function() vp:noised(gf).logp(P, -0.001) end, "not a noise level")
T.raises(function() vp:alpha("x") end, "number or Array")
