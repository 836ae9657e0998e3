-- score_conservativity.lua: does a trained score network have to be a
-- gradient field, and does it matter for sampling?
--
--   fieldlab examples/score_conservativity.lua [small | demo | full] [OUTDIR]
--
-- The flagship experiment (scripts/demo runs the "demo" size, about two
-- minutes on 2 cores; "small" is the seconds-long version make check runs;
-- "full" trains longer). After the claim of the WGF paper (diffusion models
-- need not learn a conservative score):
--
-- 1. On two toy data sets, 8gaussians (whose density is known exactly) and
--    checkerboard, train two networks the same way (DSM, eps target, VP
--    schedule, same data, optimizer, steps and seed): a plain MLP, free to
--    learn any vector field, and net.gradient(E), the gradient of a scalar
--    network, conservative by construction.
-- 2. Run the conservativity battery on each score, vp:score(model), at
--    several t: Jacobian asymmetry (exact Jacobians), loop integrals, path
--    independence, with intervals and floors.
-- 3. Sample each with Heun and DPM-Solver++(2M); also sample the plain
--    network with its non-gradient part removed (at each sampler time the
--    density-weighted split of decomp.weighted, fitted on samples of p_t,
--    keeps grad phi and drops the gauge part r, div(p_t r) = 0), next to the
--    same projection of the exact score (the fit's floor).
-- 4. Compare the samples with exact ones: MMD^2, sliced W2, and the mean
--    negative log-likelihood under the exact density (8gaussians) or the
--    share of samples inside the support (checkerboard).
--
-- Writes into OUTDIR (default "out"): samples.png, curl.png (the plain
-- network's curl at two t), nasym_vs_t.png, circulation_vs_radius.png,
-- report_<data>_<net>.json (each battery) and results.json (every number).
-- Asserts the qualitative claim: the plain networks are measurably
-- non-conservative, the gradient networks are not, and both transport
-- density comparably: the MMD^2 of their Heun samples to exact samples
-- (kernels of width 0.25, 0.5 and 1) differ by less than BAND = 10% of the
-- MMD^2 of no model at all (the prior draws).
-- Sliced W2 and the NLL are reported too; a few particles that leave the
-- data's region (|x| > 8, counted) dominate them.
local mode = arg and arg[1] or "demo"
if mode ~= "small" and mode ~= "demo" and mode ~= "full" then
  error("score_conservativity.lua: the size is small, demo or full, not '" .. tostring(mode) .. "'", 0)
end
local out = fieldlab.mkdir(arg and arg[2] or "out")
local function file(name) return out .. "/" .. name end

local S = ({
  small = { hidden = { 64, 64 }, steps = 1500, batch = 256, npts = 300, times = { 0.05, 0.2, 0.5 },
            n = 1000, sample_steps = 12, features = 100, nfit = 1500, grid = 40, radii = 80 },
  demo = { hidden = { 128, 128, 128 }, steps = 5000, batch = 256, npts = 1000, times = { 0.02, 0.05, 0.1, 0.2, 0.5, 0.9 },
           n = 4000, sample_steps = 25, features = 300, nfit = 4000, grid = 80, radii = 300 },
  full = { hidden = { 256, 256, 256 }, steps = 10000, batch = 1024, npts = 2000, times = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.9 },
           n = 10000, sample_steps = 40, features = 500, nfit = 10000, grid = 120, radii = 500 },
})[mode]
-- "comparably": the MMD^2 of the two networks' Heun samples differ by less
-- than BAND times the MMD^2 of no model at all (the prior draws themselves)
local BAND = 0.1
local T_MIN = 1e-3 -- sampling stops here (Song et al.'s eps): below it 1/sigma amplifies any eps error

local vp = diffusion.vp()
local sets = {
  { name = "8gaussians", density = data.toy_density("8gaussians") },
  { name = "checkerboard" },
}

-- The share of points in the checkerboard's support: x1, x2 in [-4, 4) with
-- floor(x1/2) + floor(x2/2) even (data.toy's construction).
local function in_checkerboard(x)
  local inside = 0
  for i = 1, #x do
    local a, b = x[i][1], x[i][2]
    if a >= -4 and a < 4 and b >= -4 and b < 4 and (math.floor(a / 2) + math.floor(b / 2)) % 2 == 0 then inside = inside + 1 end
  end
  return inside / #x
end

-- MMD^2 with kernels on the scale of the modes (the 8 Gaussians' 0.35) and
-- above: the median heuristic's one wide kernel hardly sees mode structure.
local MMD_OPTS = { bandwidth = { 0.25, 0.5, 1 } }
-- particles that left the data's region (|x| > 8): a few of them dominate W2 and NLL
local function escaped(x)
  local r2 = (x * x):sum(2)
  local k = 0
  for i = 1, #x do if r2[i] > 64 then k = k + 1 end end
  return k
end

local results = { mode = mode, settings = S, band = BAND, sets = {} }
local t_start = fieldlab.clock()
local summary = {}

for si, set in ipairs(sets) do
  local R = { name = set.name, nets = {} }
  results.sets[si] = R
  local xtrain = data.toy(set.name, 20000, { seed = 1 })
  local exact = data.toy(set.name, S.n, { seed = 2 })
  local pts = data.toy(set.name, S.npts, { seed = 4 })

  -- 1. two networks, trained the same way
  local arch = { dim = 2, hidden = S.hidden, act = "silu", time = "fourier", param = "eps", seed = 1 }
  local train = { data = xtrain, loss = loss.dsm(vp, { target = "eps" }), steps = S.steps, batch = S.batch,
    lr = 2e-3, warmup = S.steps // 20, cosine = true, seed = 2 }
  local nets = {
    { name = "plain", model = net.mlp(arch) },
    { name = "gradient", model = net.gradient(net.potential(arch)) },
  }
  for _, nt in ipairs(nets) do
    local t0 = fieldlab.clock()
    local losses = net.train(nt.model, train)
    nt.train_seconds = fieldlab.clock() - t0
    nt.loss_first, nt.loss_last = losses[1], losses[losses.size]
    nt.score = vp:score(nt.model)
  end

  -- 2. the battery
  for _, nt in ipairs(nets) do
    local t0 = fieldlab.clock()
    nt.report = check.conservativity(nt.score, { points = pts, t = S.times, seed = 5 })
    nt.check_seconds = fieldlab.clock() - t0
    nt.report:save(file(string.format("report_%s_%s.json", set.name, nt.name)))
  end

  -- 3. sampling; the projected field: grad phi of the weighted split at t
  local x0 = data.toy(set.name, S.nfit, { seed = 6 })
  local noise = array.randn({ S.nfit, 2 }, { seed = 7 })
  local function projected(score)
    local cache = {}
    return field.fn(function(x, t)
      local w = cache[t]
      if not w then
        local xt = vp:alpha(t) * x0 + vp:sigma(t) * noise
        -- random Fourier features on the length scale of p_t's structure
        -- (the components' 0.35 at small t, growing with sigma_t)
        w = decomp.weighted(score, xt, { t = t, basis = "fourier", features = S.features, seed = 8,
          scale = 0.5 + 4 * vp:sigma(t) ^ 2 })
        cache[t] = w
      end
      return w.gradient(x, t)
    end, { dim = 2, time_dependent = true })
  end
  local xT = array.randn({ S.n, 2 }, { seed = 9 })
  local runs = {
    { label = "plain heun", net = nets[1], solver = "heun" },
    { label = "plain dpm++2m", net = nets[1], solver = "dpm++2m" },
    { label = "gradient heun", net = nets[2], solver = "heun" },
    { label = "gradient dpm++2m", net = nets[2], solver = "dpm++2m" },
    { label = "plain, gauge removed, heun", field = projected(nets[1].score), solver = "heun" },
  }
  if set.density then
    runs[#runs + 1] = { label = "exact score heun", field = vp:noised(set.density).score, solver = "heun" }
    runs[#runs + 1] = { label = "exact, projected, heun", field = projected(vp:noised(set.density).score), solver = "heun" }
  end
  -- one row of sample metrics against the exact samples
  local function measure(label, xs, nfe)
    local row = { label = label, nfe = nfe, mmd = metric.mmd(xs, exact, MMD_OPTS), escaped = escaped(xs),
      sliced_w2 = metric.sliced_w2(xs, exact, { seed = 10 }) }
    if set.density then
      local ll, se = metric.mean_loglik(xs, set.density)
      row.nll, row.nll_se = -ll, se
    else
      row.support = in_checkerboard(xs)
    end
    R.samples[#R.samples + 1] = row
    return row
  end
  R.samples = {}
  for _, r in ipairs(runs) do
    local t0 = fieldlab.clock()
    local xs, info = sample.ode{ field = r.field or r.net.score, kind = "score", schedule = vp, x_T = xT,
      solver = r.solver, steps = S.sample_steps, grid = r.solver == "heun" and "edm" or "logsnr", t_min = T_MIN }
    measure(r.label, xs, info.nfe).seconds = fieldlab.clock() - t0
    r.xs = xs
  end
  measure("prior N(0, I) (no model)", xT, 0) -- the scale of the metrics: no model at all
  -- the noise floor: another set of exact samples
  R.mmd_floor = measure("exact samples (another set)", data.toy(set.name, S.n, { seed = 3 }), 0).mmd
  set.runs, set.nets, set.exact, set.pts = runs, nets, exact, pts

  for _, nt in ipairs(nets) do
    R.nets[#R.nets + 1] = { name = nt.name, nparams = nt.model.nparams, loss_first = nt.loss_first, loss_last = nt.loss_last,
      train_seconds = nt.train_seconds, check_seconds = nt.check_seconds, conservative = nt.report.conservative,
      verdict = nt.report.verdict, rows = nt.report.rows }
  end
end

-- the report table ---------------------------------------------------------
local function findrow(rep, t, test, metric_name)
  for _, w in ipairs(rep.rows) do
    if w.t == t and w.test == test and w.metric == metric_name then return w end
  end
end
local function ci(w)
  if not w then return "-" end
  return string.format("%.3g [%.2g, %.2g]", w.mean, w.ci_lo, w.ci_hi)
end
print(string.format("score_conservativity (%s): DSM-trained plain MLP vs net.gradient(E), hidden %s, %d steps",
  mode, table.concat(S.hidden, "x"), S.steps))
print()
print("Conservativity of the learned score, vp:score(model), at " .. #sets[1].pts .. " data points (mean [95% CI]):")
local trows = {}
for _, set in ipairs(sets) do
  for _, nt in ipairs(set.nets) do
    for _, t in ipairs(S.times) do
      local w = findrow(nt.report, t, "circulation", "|G|/(perimeter |v|)")
      trows[#trows + 1] = { set.name, nt.name, t, ci(findrow(nt.report, t, "jacobian", "NAsym")), ci(w),
        w and string.format("%d/%d", w.above, w.of) or "-" }
    end
  end
end
print(sample.table({ "data", "network", "t", "NAsym", "|circulation| rel.", "loops > floor" }, trows))
print()
for _, set in ipairs(sets) do
  for _, nt in ipairs(set.nets) do
    local v = nt.report.conservative == true and "consistent with a gradient field"
      or nt.report.conservative == false and "NOT conservative" or "inconclusive"
    print(string.format("  %-12s %-9s %s   (training %.1f s, final loss %.4f)", set.name, nt.name, v, nt.train_seconds, nt.loss_last))
  end
end
print()
print(string.format("Samples (%d particles, %d steps) against exact samples:", S.n, S.sample_steps))
local srows = {}
for _, set in ipairs(sets) do
  for _, r in ipairs(results.sets[_].samples) do
    srows[#srows + 1] = { set.name, r.label, r.nfe, string.format("%.4f", r.mmd), string.format("%.4f", r.sliced_w2), r.escaped or 0,
      r.nll and string.format("%.3f +- %.3f", r.nll, r.nll_se) or string.format("in support %.1f%%", 100 * r.support) }
  end
end
print(sample.table({ "data", "sampler", "nfe", "MMD^2", "sliced W2", "|x|>8", "NLL (exact p)" }, srows))

-- plots -------------------------------------------------------------------
local box = { { -4.5, 4.5 }, { -4.5, 4.5 } }
local fig = plot.figure{ rows = #sets, cols = 4, file = file("samples.png"), width = 1600, height = 800 }
for si, set in ipairs(sets) do
  local panels = { { "exact samples", set.exact }, { "plain MLP (Heun)", set.runs[1].xs },
    { "net.gradient(E) (Heun)", set.runs[3].xs }, { "plain, gauge part removed", set.runs[5].xs } }
  for j, p in ipairs(panels) do
    fig:scatter(p[2], { panel = (si - 1) * 4 + j, title = set.name .. ": " .. p[1], size = 0.3, xlim = box[1], ylim = box[2],
      equal = true, xlabel = "x1", ylabel = "x2" })
  end
end
fig:save()

-- the plain network's curl on a grid at two times
local ng = S.grid
local gx = array.linspace(box[1][1], box[1][2], ng)
local gpts = {}
for i = 1, ng do for j = 1, ng do gpts[#gpts + 1] = { gx[i], gx[j] } end end
gpts = array.from(gpts)
local cfig = plot.figure{ rows = #sets, cols = 2, file = file("curl.png"), width = 1100, height = 900 }
for si, set in ipairs(sets) do
  for k, t in ipairs{ S.times[1], S.times[#S.times] } do
    local c = set.nets[1].score:curl(gpts, t):reshape({ ng, ng })
    cfig:heatmap(c, { panel = (si - 1) * 2 + k, box = box, title = string.format("%s: curl of the plain score, t = %g", set.name, t),
      label = "curl", xlabel = "x1", ylabel = "x2" })
  end
end
cfig:save()

-- mean NAsym against t
local series = {}
for si, set in ipairs(sets) do
  local ys = {}
  for i, t in ipairs(S.times) do ys[i] = findrow(set.nets[1].report, t, "jacobian", "NAsym").mean end
  series[#series + 1] = { x = S.times, y = ys, label = set.name .. ", plain MLP", color = si }
end
plot.line(series, { file = file("nasym_vs_t.png"), logx = true, logy = true, xlabel = "t", ylabel = "mean NAsym",
  title = "Jacobian asymmetry of the learned score (net.gradient: exactly 0)" })

-- circulation against loop radius at the middle time
local tmid = S.times[(#S.times + 1) // 2]
local radii = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1 }
local cseries = {}
results.circulation = { t = tmid, radii = radii }
for si, set in ipairs(sets) do
  local centers = set.pts:slice{ { 1, math.min(S.radii, #set.pts) } }
  for ni, nt in ipairs(set.nets) do
    local c = check.circulation(nt.score, { centers = centers, radii = radii, t = tmid })
    local ys = {}
    for k = 1, #radii do
      local s, m = 0, 0
      for i = k, c.relative.size, #radii do
        local v = math.abs(c.relative[i])
        if v == v then s, m = s + v, m + 1 end
      end
      ys[k] = s / m
    end
    results.circulation[set.name .. "_" .. nt.name] = ys
    cseries[#cseries + 1] = { x = radii, y = ys, label = set.name .. ", " .. nt.name, color = 2 * si - 2 + ni }
  end
end
plot.line(cseries, { file = file("circulation_vs_radius.png"), logx = true, logy = true, xlabel = "loop radius",
  ylabel = "mean |circulation| / (perimeter |v|)", title = string.format("loop integrals at t = %g", tmid) })

results.seconds = fieldlab.clock() - t_start
local fh = assert(io.open(file("results.json"), "w"))
fh:write(fieldlab.json(results), "\n")
fh:close()
print()
for _, name in ipairs{ "samples.png", "curl.png", "nasym_vs_t.png", "circulation_vs_radius.png", "results.json" } do
  print("wrote " .. file(name))
end
print(string.format("total %.1f s", results.seconds))

-- the claim, asserted ---------------------------------------------------------
for si, set in ipairs(sets) do
  local plain, grad = set.nets[1].report, set.nets[2].report
  assert(plain.conservative == false, set.name .. ": the plain MLP should be measurably non-conservative")
  assert(grad.conservative == true, set.name .. ": net.gradient(E) should be consistent with a gradient field")
  local sm = results.sets[si].samples
  local m1, m2, m0 = sm[1].mmd, sm[3].mmd, sm[#sm - 1].mmd
  assert(sm[#sm - 1].label:find("^prior"))
  assert(math.abs(m1 - m2) < BAND * m0, string.format("%s: MMD^2 of plain (%.4f) and gradient (%.4f) Heun samples differ by more than %g x the prior's %.3f",
    set.name, m1, m2, BAND, m0))
end
print(string.format("checked: plain MLPs non-conservative, gradient networks conservative, MMD^2 within %g x the prior's of each other", BAND))
