-- fieldlab train: train a score or velocity network on toy data or a .npy
-- array (module net) and save it as .safetensors. Needs net.mlp, net.train
-- and net.save at run time; without them it says so and exits 1.
-- See fieldlab-train(1).
local cmd = {
  name = "train",
  summary = "train a score or velocity network and save it",
  args = { min = 0, max = 0 },
}

cmd.synopsis = [==[
usage: fieldlab train --data NAME|X.npy --out MODEL.safetensors [options]
Train an MLP by denoising score matching (dsm) or flow matching (fm) and
save it as .safetensors. Needs module net with training.

Options:
  --data NAME|X.npy  training data: a toy data set name or an n-by-d array
  --n N              number of toy samples (default 20000)
  --loss KIND        dsm or fm (default dsm)
  --schedule KIND    vp, ve, edm, linear or cosine (default vp; fm: linear)
  --arch SPEC        IN:H1,H2,...:OUT:ACT, e.g. 2:128,128:2:silu
                     (default D:256,256,256:D:silu)
  --steps N          optimisation steps (default 20000)
  --batch N          batch size (default 1024)
  --lr X             learning rate (default 1e-3)
  --seed N           seed (default 0)
  --out FILE         the trained model (.safetensors)
  --checkpoint FILE  write a checkpoint there during the run
  --resume FILE      continue from a checkpoint
  -h, --help         show this help

Exit status: 0 success, 1 the run failed (or module net has no training in
this build), 2 usage error.
]==]

cmd.options = {
  { "data", "string" }, { "n", "int", min = 1 },
  { "loss", "choice", choices = { "dsm", "fm" } },
  { "schedule", "choice", choices = { "vp", "ve", "edm", "linear", "cosine" } },
  { "arch", "string" }, { "steps", "int", min = 1 }, { "batch", "int", min = 1 },
  { "lr", "number", positive = true }, { "seed", "int", min = 0 },
  { "out", "file" }, { "checkpoint", "file" }, { "resume", "file" },
}

-- IN:H1,H2,...:OUT:ACT -> {dim =, hidden = {...}, out =, act =}; nil on a bad spec.
function cmd.parse_arch(s)
  local i, h, o, act = s:match("^(%d+):([%d,]+):(%d+):(%a[%w_]*)$")
  if not i then return nil end
  local hidden = {}
  for w in h:gmatch("[^,]+") do
    local x = math.tointeger(tonumber(w))
    if not x or x < 1 then return nil end
    hidden[#hidden + 1] = x
  end
  if h:find(",,") or h:find("^,") or h:find(",$") then return nil end
  return { dim = tonumber(i) // 1, hidden = hidden, out = tonumber(o) // 1, act = act }
end

function cmd.run(cli, o)
  if not o.data then cli.usage("missing option '--data'") end
  if not o.out then cli.usage("missing option '--out'") end
  local arch = o.arch and cmd.parse_arch(o.arch)
  if o.arch and not arch then
    cli.usage("option '--arch' needs IN:H1,H2,...:OUT:ACT (e.g. 2:128,128:2:silu), got '%s'", o.arch)
  end
  if o.n and o.data:find("%.npy$") then cli.usage("option '--n' applies to a toy data set, not a .npy file") end
  if type(net) ~= "table" or type(net.train) ~= "function" or type(net.mlp) ~= "function" then
    cli.fail("needs module net with training (not in this build)")
  end
  local x
  if o.data:find("%.npy$") then x = cli.load_npy(o.data, "data")
  else
    local ok, r = pcall(data.toy, o.data, o.n or 20000, { seed = o.seed or 0 })
    if not ok then cli.usage("option '--data': %s", (tostring(r):gsub("^.-: ", "", 1))) end
    x = r
  end
  local d = x.shape[2]
  arch = arch or { dim = d, hidden = { 256, 256, 256 }, out = d, act = "silu" }
  if arch.dim ~= d or arch.out ~= d then
    cli.usage("option '--arch': the data are %d-D, the network maps %d to %d", d, arch.dim, arch.out)
  end
  local lossname = o.loss or "dsm"
  local sched = diffusion[o.schedule or (lossname == "fm" and "linear" or "vp")]()
  -- DSM trains a noise (eps) predictor, flow matching a velocity; the model
  -- records which, so `fieldlab sample` converts it with the schedule.
  local param = lossname == "fm" and "velocity" or "eps"
  local model = o.resume and net.load(o.resume)
    or net.mlp{ dim = d, hidden = arch.hidden, act = arch.act, time = "fourier", param = param }
  local objective = lossname == "fm" and loss.fm() or loss.dsm(sched, { target = "eps" })
  net.train(model, {
    data = x, loss = objective, steps = o.steps or 20000, batch = o.batch or 1024, lr = o.lr,
    seed = o.seed, checkpoint = o.checkpoint, every = o.checkpoint and 1000 or nil, resume = o.resume,
  })
  model:save(o.out)
  print("wrote: " .. o.out)
  return 0
end

return cmd
