-- sampler_zoo.lua: the sampler zoo on the exact noised 8 Gaussians.
--
--   fieldlab examples/sampler_zoo.lua [small] [OUTDIR]
--
-- The data are the FFJORD 8 Gaussians, an exact mixture, so under the VP
-- schedule the probability-flow velocity and the score are exact: whatever
-- error the samples have is the sampler's. Every ODE sampler starts from the
-- same prior draws; its error is measured against a reference solution of
-- the same ODE (adaptive RK45 at tight tolerance) as the RMS endpoint
-- distance, and its sample quality as the MMD^2 to exact mixture samples
-- (noise floor: two exact sample sets). The table shows error against the
-- number of field evaluations (NFE): first-order solvers (Euler, DDIM,
-- DPM-Solver++(1)) halve their error when the NFE doubles, second-order ones
-- (Heun, DPM-Solver-2, DPM-Solver++(2M)) quarter it. The same numbers as a
-- log-log plot: OUTDIR/sampler_zoo.png (default OUTDIR "out"), with the
-- observed order of each solver (the slope between the last two budgets).
local small = arg and arg[1] == "small"
local out = fieldlab.mkdir(arg and arg[2] or "out")
local n = small and 500 or 5000
local budgets = small and {10, 20, 40} or {10, 20, 40, 80, 160}

local g = data.toy_density("8gaussians")
local vp = diffusion.vp()
local pt = vp:noised(g)
local xT = array.randn({n, 2}, {seed = 1})
local exact = g:sample(n, {seed = 2})
local floor = metric.mmd(g:sample(n, {seed = 3}), exact)

local ref = sample.ode{field = pt.velocity, schedule = vp, x_T = xT, solver = "rk45", rtol = 1e-10, atol = 1e-12}

local function rms(a, b)
  local d = a - b
  return math.sqrt((d * d):sum() / a.shape[1])
end

local solvers = {
  {"euler", 1, "t"}, {"heun", 2, "t"}, {"rk4", 4, "t"}, {"ddim", 1, "logsnr"},
  {"dpm2", 2, "logsnr"}, {"dpm++1", 1, "logsnr"}, {"dpm++2m", 1, "logsnr"},
}
local rows, series = {}, {}
for k, s in ipairs(solvers) do
  local xs, ys = {}, {}
  for _, nfe in ipairs(budgets) do
    local steps = math.max(1, nfe // s[2])
    local t0 = fieldlab.clock()
    local x, info = sample.ode{field = pt.score, kind = "score", schedule = vp, x_T = xT, solver = s[1],
                               steps = steps, grid = s[3]}
    local dt = fieldlab.clock() - t0
    local err = rms(x, ref)
    rows[#rows + 1] = {s[1], info.nfe, err, (metric.mmd(x, exact)), dt}
    xs[#xs + 1], ys[#ys + 1] = info.nfe, err
  end
  local order = -math.log(ys[#ys] / ys[#ys - 1]) / math.log(xs[#xs] / xs[#xs - 1])
  series[k] = {x = xs, y = ys, label = string.format("%s (order %.1f)", s[1], order), color = k}
end
print(string.format("PF-ODE samplers, %d particles, VP schedule, exact 8-Gaussians score", n))
print(sample.table({"solver", "nfe", "rms_error", "mmd2", "seconds"}, rows))
print("wrote " .. plot.line(series, {file = out .. "/sampler_zoo.png", logx = true, logy = true, width = 800, height = 600,
  xlabel = "field evaluations per particle (NFE)", ylabel = "RMS distance to the exact ODE solution",
  title = "PF-ODE samplers on the exact 8-Gaussians score (VP)"}))
print(string.format("MMD^2 between two exact sample sets (noise floor): %.3g", floor))

-- stochastic samplers at a fixed budget
local srows = {}
for _, s in ipairs{{"euler_maruyama", small and 100 or 500}, {"ddpm", small and 50 or 200}, {"pc", small and 50 or 200}} do
  local x, info = sample.sde{field = pt.score, kind = "score", schedule = vp, n = n, solver = s[1], steps = s[2], seed = 4}
  srows[#srows + 1] = {s[1], info.nfe, (metric.mmd(x, exact))}
end
local edm = diffusion.edm()
local xe, ie = sample.sde{field = edm:noised(g).score, kind = "score", schedule = edm, n = n, solver = "edm",
                          steps = small and 20 or 40, S_churn = 20, seed = 5}
srows[#srows + 1] = {"edm (S_churn 20)", ie.nfe, (metric.mmd(xe, exact))}
print("\nreverse-SDE samplers")
print(sample.table({"solver", "nfe", "mmd2"}, srows))
