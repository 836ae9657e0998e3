-- Training: the losses (module loss) and net.train, on the ad engine and the
-- optimizers of module optim (lib/fl_optim.c). Every random number of step s
-- comes from the counter-based generator keyed by (seed, stream) with streams
-- 64 (s - 1) + k, so a run resumed at step s draws exactly what the
-- uninterrupted run drew.
local core = require "fieldlab.core"
local net, ad, array, optim, loss = core.net, core.ad, core.array, core.optim, core.loss

local STREAMS = 64

-- The random numbers of one step: rng:randn(shape), rng:rand(shape), each
-- call a fresh stream of (seed, step).
local Rng = {}
Rng.__index = Rng
local function make_rng(seed, step)
  return setmetatable({seed = seed, step = step, base = STREAMS * (step - 1), k = 1}, Rng)
end
function Rng:stream()
  local k = self.k
  if k >= STREAMS then error("net.train: a loss may draw at most " .. (STREAMS - 1) .. " random arrays per step", 3) end
  self.k = k + 1
  return self.base + k
end
function Rng:randn(shape) return array.randn(shape, {seed = self.seed, stream = self:stream()}) end
function Rng:rand(shape) return array.rand(shape, {seed = self.seed, stream = self:stream()}) end

-- A loss object: callable as L(model, batch, rng) -> 1 x 1 Var.
local Loss = {}
Loss.__index = Loss
Loss.__call = function(self, model, batch, rng) return self.fn(model, batch, rng) end
Loss.__name = "fieldlab.Loss"
Loss.__tostring = function(self) return "Loss(" .. self.name .. ")" end

local function new_loss(name, param, fn, data_kind)
  return setmetatable({name = name, param = param, fn = fn, data = data_kind or "points"}, Loss)
end

local function check_opts(fname, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(fname .. ": options must be a table, not a " .. type(opts), 3) end
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(opts) do
    if not set[k] then error(string.format("%s: unknown option '%s'", fname, tostring(k)), 3) end
  end
  return opts
end

-- t ~ U[t_min, t_max] as a b x 1 Array.
local function draw_t(rng, b, tmin, tmax)
  local u = rng:rand({b, 1})
  return u * (tmax - tmin) + tmin
end

local targets = {eps = true, x0 = true, score = true, velocity = true}

function loss.dsm(schedule, opts)
  if type(schedule) ~= "userdata" or not pcall(function() return schedule.alpha end) then
    error("loss.dsm: needs a diffusion schedule (diffusion.vp(), ...), not a " .. type(schedule), 2)
  end
  opts = check_opts("loss.dsm", opts, {"target", "weighting", "t_min", "t_max"})
  local target = opts.target or "eps"
  if not targets[target] then
    error("loss.dsm: unknown target '" .. tostring(target) .. "' (eps, x0, score or velocity)", 2)
  end
  local w = opts.weighting or (target == "score" and "sigma2" or "none")
  if w ~= "none" and w ~= "sigma2" and type(w) ~= "function" then
    error("loss.dsm: weighting must be \"none\", \"sigma2\" or a function(t) -> weights, not " .. tostring(w), 2)
  end
  local tmin, tmax = opts.t_min or 1e-3, opts.t_max or 1
  if not (tmin >= 0 and tmax > tmin and tmax <= 1) then
    error(string.format("loss.dsm: need 0 <= t_min < t_max <= 1, not %g, %g", tmin, tmax), 2)
  end
  local Lo = new_loss("dsm/" .. target, target, function(model, x0, rng)
    local b = x0.shape[1]
    local t = draw_t(rng, b, tmin, tmax)
    local eps = rng:randn(x0.shape)
    local a, s = ad.const(schedule:alpha(t)), ad.const(schedule:sigma(t))
    local X0, E = ad.const(x0), ad.const(eps)
    local xt = (X0 * a + E * s).value
    local pred = model:forward(xt, ad.const(t))
    local r
    if target == "eps" then r = pred - E
    elseif target == "x0" then r = pred - X0
    elseif target == "velocity" then
      r = pred - (X0 * ad.const(schedule:dalpha(t)) + E * ad.const(schedule:dsigma(t)))
    else -- score: -eps / sigma
      r = pred + E / s
    end
    local sq = r:square():mean(2)
    if w == "sigma2" then sq = sq * s:square()
    elseif type(w) == "function" then sq = sq * ad.const(w(t)) end
    return sq:mean()
  end)
  -- what net.train needs for the fused step (net._dsm): the same loss in one C call
  if type(w) ~= "function" then
    Lo.dsm = {schedule = schedule, target = target, sigma2 = w == "sigma2", tmin = tmin, tmax = tmax}
  end
  return Lo
end

function loss.fm(opts)
  opts = check_opts("loss.fm", opts, {"path", "t_min", "t_max"})
  local path = opts.path or "linear"
  if path ~= "linear" then error("loss.fm: unknown path '" .. tostring(path) .. "' (linear)", 2) end
  local tmin, tmax = opts.t_min or 0, opts.t_max or 1
  return new_loss("fm/linear", "velocity", function(model, x0, rng)
    local b = x0.shape[1]
    local t = draw_t(rng, b, tmin, tmax)
    local x1 = rng:randn(x0.shape)
    local T, X0, X1 = ad.const(t), ad.const(x0), ad.const(x1)
    local xt = (X0 + (X1 - X0) * T).value
    local r = model:forward(xt, T) - (X1 - X0)
    return r:square():mean(2):mean()
  end)
end

function loss.regression(opts)
  opts = check_opts("loss.regression", opts, {"t"})
  local tt = opts.t or 0
  return new_loss("regression", nil, function(model, batch)
    local d = model.dim
    local x, y = batch:slice({{}, {1, d}}), batch:slice({{}, {d + 1, batch.shape[2]}})
    local r = model:forward(x, tt) - y
    return r:square():mean(2):mean()
  end, "pairs")
end

-- ---------------------------------------------------------------- net.train

local train_opts = {"data", "loss", "steps", "batch", "lr", "optimizer", "warmup", "cosine", "min_lr", "clip",
  "ema", "seed", "checkpoint", "every", "resume", "log", "weight_decay", "betas", "momentum"}

local MAGIC = 46757 -- first number of a training-state file
local kinds = {sgd = 0, adam = 1, adamw = 2}

local function isfinite(v) return v == v and v ~= math.huge and v ~= -math.huge end

-- The full state as one 1-D array (written as .npy):
-- [MAGIC, step, n, kind, has_ema, seed] x m v ema losses
local function state_array(step, seed, P, opt, ema, losses)
  local st = opt:state()
  local n = P.size
  local head = array.from({MAGIC, step, n, kinds[opt.kind], ema and 1 or 0, seed})
  local parts = {head, P.value, st.m, st.v or array.zeros(n)}
  if ema then parts[#parts + 1] = ema end
  local l = {}
  for i = 1, step do l[i] = losses[i] end
  if step > 0 then parts[#parts + 1] = array.from(l) end
  return array.concat(parts)
end

local function write_checkpoint(path, model, step, seed, P, opt, ema, losses)
  local tmp = path .. ".state.tmp.npy"
  state_array(step, seed, P, opt, ema, losses):save(tmp)
  local ok, err = os.rename(tmp, path .. ".state.npy")
  if not ok then error("net.train: cannot write checkpoint " .. path .. ".state.npy: " .. tostring(err), 0) end
  model:save(path)
end

local function read_checkpoint(path, P, opt, ema, seed)
  local file = path .. ".state.npy"
  local ok, a = pcall(array.load, file)
  if not ok then error("net.train: cannot resume from " .. path .. ": " .. tostring(a), 0) end
  local n = P.size
  if a.ndim ~= 1 or a.size < 6 or a[1] ~= MAGIC then
    error("net.train: " .. file .. " is not a training checkpoint", 0)
  end
  local step, cn, kind, has_ema, cseed = a[2], a[3], a[4], a[5], a[6]
  if cn ~= n then
    error(string.format("net.train: checkpoint %s has %d parameters, the model %d", file, cn, n), 0)
  end
  if kind ~= kinds[opt.kind] then
    error(string.format("net.train: checkpoint %s was made with another optimizer than '%s'", file, opt.kind), 0)
  end
  if cseed ~= seed then
    error(string.format("net.train: checkpoint %s was made with seed %d, this run has seed %d", file, cseed, seed), 0)
  end
  if (has_ema == 1) ~= (ema ~= nil) then
    error("net.train: checkpoint " .. file .. (has_ema == 1 and " has" or " has no") .. " EMA weights, the run asks the opposite", 0)
  end
  local need = 6 + n * (3 + has_ema) + step
  if a.size ~= need then
    error(string.format("net.train: checkpoint %s is truncated or corrupt (%d numbers, expected %d)", file, a.size, need), 0)
  end
  local off = 6
  local function take(len)
    local s = a:slice({{off + 1, off + len}})
    off = off + len
    return s
  end
  P:set(take(n))
  local m, v = take(n), take(n)
  local st = {kind = opt.kind, step = math.tointeger(step), m = m}
  if opt.kind ~= "sgd" then st.v = v end
  opt:load(st)
  local e = has_ema == 1 and take(n) or nil
  local losses = {}
  if step > 0 then
    local l = take(step)
    for i = 1, step do losses[i] = l[i] end
  end
  return math.tointeger(step), losses, e
end

-- Progress bar on stderr: step, loss, steps/s, ETA.
local function progress(s, total, v, t0, done)
  local el = core.clock() - t0
  local rate = s / math.max(el, 1e-9)
  local width = 24
  local k = math.floor(s / total * width + 0.5)
  io.stderr:write(string.format("\r[%s%s] step %d/%d  loss %.4g  %.1f steps/s%s", string.rep("#", k),
    string.rep(" ", width - k), s, total, v, rate,
    done and string.format("  %.1f s   \n", el) or string.format("  ETA %.0f s ", (total - s) / rate)))
  io.stderr:flush()
end

function net.train(model, opts)
  local fname = "net.train"
  if not (core.field.is_field(model) and model.arch) then
    error("net.train: needs a network (net.mlp, net.potential, ...), not " ..
      (core.field.is_field(model) and "a " .. model.kind .. " field" or "a " .. type(model)), 2)
  end
  if type(opts) ~= "table" then error("net.train: needs an option table, not " .. type(opts), 2) end
  check_opts(fname, opts, train_opts)
  local L = opts.loss
  if L == nil then error("net.train: option 'loss' is required (loss.dsm(schedule), loss.fm(), loss.regression() or a function)", 2) end
  if getmetatable(L) ~= Loss and type(L) ~= "function" then
    error("net.train: option 'loss' must be a loss (loss.dsm, ...) or a function(model, batch, rng), not a " .. type(L), 2)
  end
  if getmetatable(L) == Loss and L.param and L.param ~= model.param then
    error(string.format("net.train: the loss trains a %q network but the model is parametrised as %q " ..
      "(give param = %q to the constructor)", L.param, model.param, L.param), 2)
  end
  local steps = opts.steps
  if math.type(steps) ~= "integer" or steps < 1 then
    error("net.train: option 'steps' must be an integer >= 1, not " .. tostring(steps), 2)
  end
  local bsz = opts.batch or 256
  if math.type(bsz) ~= "integer" or bsz < 1 then error("net.train: option 'batch' must be an integer >= 1, not " .. tostring(bsz), 2) end
  local data = opts.data
  local dkind = getmetatable(L) == Loss and L.data or "custom"
  if dkind == "pairs" then
    if type(data) ~= "table" or not data.x or not data.y then
      error("net.train: loss.regression needs data = {x = inputs, y = targets}", 2)
    end
    local x, y = data.x, data.y
    if x.ndim ~= 2 or y.ndim ~= 2 or x.shape[1] ~= y.shape[1] then
      error("net.train: data.x and data.y must be 2-D with the same number of rows", 2)
    end
    if x.shape[2] ~= model.dim or y.shape[2] ~= model.codim then
      error(string.format("net.train: data.x is n x %d and data.y n x %d, the network maps R^%d to R^%d",
        x.shape[2], y.shape[2], model.dim, model.codim), 2)
    end
    data = array.concat({x, y}, 2)
  elseif data ~= nil then
    if not (type(data) == "userdata" and pcall(function() return data.ndim end)) or data.ndim ~= 2 then
      error("net.train: option 'data' must be a 2-D Array (points x dim)", 2)
    end
    if dkind == "points" and data.shape[2] ~= model.dim then
      error(string.format("net.train: data points have dimension %d, the network takes %d", data.shape[2], model.dim), 2)
    end
    if data.shape[1] < 1 then error("net.train: data has no points", 2) end
  elseif dkind ~= "custom" then
    error("net.train: option 'data' is required for " .. L.name, 2)
  end
  local seed = opts.seed or core.seed()
  if math.type(seed) ~= "integer" or seed < 0 then error("net.train: option 'seed' must be an integer >= 0", 2) end
  local oname = opts.optimizer or "adam"
  if not kinds[oname] then error("net.train: unknown optimizer '" .. tostring(oname) .. "' (adam, adamw or sgd)", 2) end
  local lr = opts.lr or 1e-3
  local warmup = opts.warmup or 0
  local every = opts.every
  local ckpt = opts.checkpoint
  if every and not ckpt then error("net.train: option 'every' needs option 'checkpoint' (a file name)", 2) end
  if ckpt and type(ckpt) ~= "string" then error("net.train: option 'checkpoint' must be a file name", 2) end
  if every ~= nil and (math.type(every) ~= "integer" or every < 1) then error("net.train: option 'every' must be an integer >= 1", 2) end
  local ema_decay = opts.ema
  if ema_decay ~= nil and not (type(ema_decay) == "number" and ema_decay >= 0 and ema_decay < 1) then
    error("net.train: option 'ema' must be a decay in [0, 1), not " .. tostring(ema_decay), 2)
  end
  local clip = opts.clip
  if clip ~= nil and not (type(clip) == "number" and clip > 0) then error("net.train: option 'clip' must be a positive number", 2) end
  local log = opts.log
  if log ~= nil and type(log) ~= "function" and math.type(log) ~= "integer" then
    error("net.train: option 'log' must be a function(step, loss) or an integer (print every n steps)", 2)
  end

  local P = model:params()
  local oo = {lr = lr, weight_decay = opts.weight_decay}
  if oname == "sgd" then oo.momentum = opts.momentum else oo.betas = opts.betas end
  local opt = optim[oname](P, oo)
  local sched = {lr = lr, warmup = warmup, steps = steps, cosine = opts.cosine or false, min_lr = opts.min_lr or 0}
  local ema = ema_decay and P.value or nil
  local losses, start = {}, 1
  if opts.resume then
    local step, l, e = read_checkpoint(opts.resume, P, opt, ema, seed)
    if step > steps then error(string.format("net.train: checkpoint is at step %d, beyond steps = %d", step, steps), 2) end
    losses, start = l, step + 1
    if e then ema = e end
  end
  -- the standard DSM loss on an mlp runs as one C call per step (the same
  -- numbers as the graph, bit for bit); anything else on the ad graph
  local fused = getmetatable(L) == Loss and L.dsm and data and model.arch.kind == "mlp" and
    net._dsm(model, L.dsm.schedule, L.dsm.target, L.dsm.sigma2, L.dsm.tmin, L.dsm.tmax, bsz) or nil
  local show = not core.quiet() and optim._isatty()
  local t0, last = core.clock(), -1
  local lastgood = nil
  local ok, err = pcall(function()
    for s = start, steps do
      local v, Lv
      if fused then
        v = net._dsm_step(fused, data, seed, STREAMS * (s - 1))
      else
        local rng = make_rng(seed, s)
        local batch = data and optim._batch(data, bsz, seed, rng.base) or nil
        ad.reset()
        P:zero_grad()
        Lv = L(model, batch, rng)
        if not ad.is_var(Lv) then error("net.train: the loss must return an ad variable, not a " .. type(Lv), 0) end
        v = Lv:item()
      end
      if not isfinite(v) then
        error(string.format("net.train: the loss is %s at step %d; training stopped%s", v ~= v and "NaN" or (v > 0 and "+Inf" or "-Inf"), s,
          lastgood and string.format(" (last good checkpoint: %s, step %d)", ckpt, lastgood) or ""), 0)
      end
      if not fused then ad.backward(Lv) end
      if clip then optim.clip_grad(P, clip) end
      losses[s] = v
      opt:step(optim.lr_at(s, sched))
      if ema then optim.ema_update(ema, P, ema_decay) end
      if ckpt and every and s % every == 0 then
        write_checkpoint(ckpt, model, s, seed, P, opt, ema, losses)
        lastgood = s
      end
      if log then
        if type(log) == "function" then log(s, v)
        elseif s % log == 0 then print(string.format("step %d  loss %.6g", s, v)) end
      end
      if show then
        local now = core.clock()
        if now - t0 > 1 and now - last > 0.2 then progress(s - start + 1, steps - start + 1, v, t0); last = now end
      end
    end
  end)
  ad.reset()
  if fused then net._dsm_free(fused) end
  if show and last >= 0 then progress(#losses - start + 1, steps - start + 1, losses[#losses] or 0, t0, true) end
  if not ok then
    if ckpt and type(err) == "string" and err:find("interrupted") then
      local s = opt.steps
      for i = s + 1, #losses do losses[i] = nil end
      write_checkpoint(ckpt, model, s, seed, P, opt, ema, losses)
      io.stderr:write(string.format("net.train: interrupted at step %d; checkpoint written to %s\n", s, ckpt))
    end
    error(err, 0)
  end
  if ckpt and not (every and steps % every == 0) then write_checkpoint(ckpt, model, steps, seed, P, opt, ema, losses) end
  return array.from(losses), ema
end

return {}
