-- fieldlab sample: draw samples with a PF-ODE solver (sample.ode) from an
-- exact named field (gmm:DATA:SCHEDULE[:score|velocity]) or a network
-- (.safetensors, needs net.load), write them as .npy and, with --against,
-- print the distances to reference samples. See fieldlab-sample(1).
local cmd = {
  name = "sample",
  summary = "sample with a probability-flow ODE solver and measure against data",
  args = { min = 1, max = 1, name = "MODEL (FILE.safetensors or gmm:DATA:SCHEDULE[:score|velocity])" },
}

cmd.synopsis = [==[
usage: fieldlab sample MODEL --out SAMPLES.npy [options]
Integrate the probability-flow ODE from noise with MODEL, write the samples
and, with --against, print MMD^2 and sliced W2^2 to reference samples.

MODEL is FILE.safetensors (a network; needs module net with net.load) or an
exact field gmm:DATA:SCHEDULE[:score|velocity] (see fieldlab-check(1)).

Options:
  --schedule KIND    vp, ve, edm, linear or cosine (default: the model's)
  --kind KIND        what a network predicts: velocity, score, eps or x0
                     (default velocity)
  --solver NAME      euler, heun, rk4, rk45, ddim, dpm2, dpm++1, dpm++2m
                     (default heun)
  --steps N          solver steps (default 50)
  --n N              number of samples (default 10000)
  --seed N           seed (default 0)
  --out FILE         the samples, an n-by-d .npy array
  --against X        reference samples: FILE.npy or a toy data set name
  --json FILE        also write the run and metrics as JSON ('-': stdout only)
  -h, --help         show this help

Exit status: 0 success, 1 the run failed, 2 usage error.
]==]

local solvers = { "euler", "heun", "rk4", "rk45", "ddim", "dpm2", "dpm++1", "dpm++2m" }
cmd.options = {
  { "schedule", "choice", choices = { "vp", "ve", "edm", "linear", "cosine" } },
  { "kind", "choice", choices = { "velocity", "score", "eps", "x0" } },
  { "solver", "choice", choices = solvers }, { "steps", "int", min = 1, max = 1000000 },
  { "n", "int", min = 1, max = 100000000 }, { "seed", "int", min = 0 },
  { "out", "file" }, { "against", "string" }, { "json", "file" },
}

function cmd.run(cli, o, args)
  local spec = args[1]
  if not o.out then cli.usage("missing option '--out'") end
  local f, kind, sched, dim
  if spec:find("%.safetensors$") then
    if type(net) ~= "table" or type(net.load) ~= "function" then
      cli.fail("%s: needs module net with net.load (not in this build)", spec)
    end
    f = net.load(spec)
    kind = o.kind or "velocity"
    sched = diffusion[o.schedule or "vp"]()
    dim = f.dim
  else
    local F = cli.named_field(spec)
    if not F or not F.noised then
      cli.usage("unknown model '%s' (FILE.safetensors or gmm:DATA:SCHEDULE[:score|velocity])", spec)
    end
    if o.schedule and o.schedule ~= F.schedule.name then
      cli.usage("option '--schedule %s' contradicts the model's schedule '%s'", o.schedule, F.schedule.name)
    end
    if o.kind then cli.usage("option '--kind' applies to a network; an exact field knows its kind") end
    f, sched, dim = F.field, F.schedule, F.dim
    kind = spec:find(":velocity") and "velocity" or "score"
  end
  local solver = o.solver or "heun"
  local steps = o.steps or 50
  local n = o.n or 10000
  local t0 = fieldlab.clock()
  local xs, info = sample.ode{ field = f, kind = kind, schedule = sched, n = n, solver = solver,
    steps = solver ~= "rk45" and steps or nil, seed = o.seed or 0 }
  local secs = fieldlab.clock() - t0
  xs:save(o.out)
  local res = { model = spec, solver = solver, steps = info.steps, nfe = info.nfe, n = n, seconds = secs, out = o.out }
  local rows = { { "samples", n }, { "solver", solver }, { "steps", info.steps }, { "nfe", info.nfe },
    { "seconds", secs }, { "written", o.out } }
  if o.against then
    local y
    if o.against:find("%.npy$") then y = cli.load_npy(o.against, "reference samples")
    else
      local ok, r = pcall(data.toy, o.against, n, { seed = (o.seed or 0) + 1 })
      if not ok then cli.usage("option '--against': %s", (tostring(r):gsub("^.-: ", "", 1))) end
      y = r
    end
    if #y.shape ~= 2 or y.shape[2] ~= dim then
      cli.fail("reference samples have shape (%s); need n-by-%d", table.concat(y.shape, ","), dim)
    end
    local m = math.min(y.shape[1], 5000)
    local xa = n > 5000 and xs:slice{{1, 5000}, true} or xs
    if y.shape[1] > m then y = y:slice{{1, m}, true} end
    local mmd, mmd_se = metric.mmd(xa, y)
    local sw, sw_se = metric.sliced_w2(xs, y, { seed = o.seed or 0 })
    res.mmd2, res.mmd2_se, res.sliced_w2, res.sliced_w2_se = mmd, mmd_se, sw, sw_se
    rows[#rows + 1] = { "MMD^2", mmd, mmd_se }
    rows[#rows + 1] = { "sliced W2^2", sw, sw_se }
  end
  if o.json ~= "-" then print(cli.table({ "quantity", "value", "se" }, rows)) end
  if o.json then cli.write_file(o.json, cli.json(res)) end
  return 0
end

return cmd
