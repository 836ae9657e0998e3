-- Training (modules optim, loss, net.train): optimizers against hand-computed
-- updates, schedules against their formulas, a conservative network fitted to
-- a Gaussian score, DSM on 8gaussians against the exact noised-GMM score,
-- bit-for-bit resume, and the NaN stop.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- ---------------------------------------------------------------- optimizers
-- f(x) = 1/2 sum c_i x_i^2, gradient c_i x_i; updates computed here by hand.
local c = {1, 10, 0.1}
local function run(make, nsteps)
  local P = ad.params()
  local x = P:param(array.from{1, -2, 3})
  local o = make(P)
  for _ = 1, nsteps do
    o:zero_grad()
    ad.backward((x * x * ad.const(array.from(c))):sum() * 0.5)
    o:step()
    ad.reset()
  end
  return P.value, o
end
local function adam_ref(nsteps, lr, b1, b2, eps, wd, decoupled)
  local x, m, v = {1, -2, 3}, {0, 0, 0}, {0, 0, 0}
  for t = 1, nsteps do
    for i = 1, 3 do
      local g = c[i] * x[i]
      if not decoupled then g = g + wd * x[i] end
      m[i] = b1 * m[i] + (1 - b1) * g
      v[i] = b2 * v[i] + (1 - b2) * g * g
      local mh, vh = m[i] / (1 - b1 ^ t), v[i] / (1 - b2 ^ t)
      if decoupled then x[i] = x[i] * (1 - lr * wd) end
      x[i] = x[i] - lr * mh / (math.sqrt(vh) + eps)
    end
  end
  return x
end
-- Adam's first step with bias correction moves every coordinate by lr (sign of g)
local x1 = run(function(P) return optim.adam(P, {lr = 0.1}) end, 1)
T.allclose(x1, {0.9, -1.9, 2.9}, 1e-8, "Adam step 1 = lr sign(g)")
local x5 = run(function(P) return optim.adam(P, {lr = 0.05, betas = {0.8, 0.99}}) end, 5)
T.allclose(x5, adam_ref(5, 0.05, 0.8, 0.99, 1e-8, 0, false), 1e-14, "Adam 5 steps")
local xw = run(function(P) return optim.adamw(P, {lr = 0.05, weight_decay = 0.3}) end, 5)
T.allclose(xw, adam_ref(5, 0.05, 0.9, 0.999, 1e-8, 0.3, true), 1e-14, "AdamW 5 steps (decoupled decay)")
local xl = run(function(P) return optim.adam(P, {lr = 0.05, weight_decay = 0.3}) end, 5)
T.allclose(xl, adam_ref(5, 0.05, 0.9, 0.999, 1e-8, 0.3, false), 1e-14, "Adam with L2 weight decay")
-- SGD with momentum: b = mu b + g, x -= lr b
do
  local x, b = {1, -2, 3}, {0, 0, 0}
  for _ = 1, 4 do for i = 1, 3 do b[i] = 0.9 * b[i] + c[i] * x[i]; x[i] = x[i] - 0.01 * b[i] end end
  local xs, o = run(function(P) return optim.sgd(P, {lr = 0.01, momentum = 0.9}) end, 4)
  T.allclose(xs, x, 1e-14, "SGD momentum 4 steps")
  T.eq(o.steps, 4); T.eq(o.kind, "sgd"); T.near(o.lr, 0.01, 0)
  o.lr = 0.5; T.near(o.lr, 0.5, 0, "lr settable")
end
-- plain gradient descent on the quadratic converges
do
  local xs = run(function(P) return optim.sgd(P, {lr = 0.05}) end, 400)
  T.near(xs[2], 0, 1e-12, "GD converges on the stiff coordinate")
end
-- state() / load() round trip continues identically
do
  local P = ad.params(); local x = P:param(array.from{1, -2, 3})
  local o = optim.adam(P, {lr = 0.05})
  local function step() o:zero_grad(); ad.backward((x * x):sum()); o:step(); ad.reset() end
  step(); step()
  local st, v = o:state(), P.value
  step(); local after = P.value
  P:set(v); local o2 = optim.adam(P, {lr = 0.05}); o2:load(st); o = o2
  step()
  T.allclose(P.value, after, 0, "state/load resumes exactly")
end
-- clipping and the EMA
do
  local P = ad.params(); local x = P:param(array.from{3, 4})
  ad.backward((x * x):sum() * 0.5)           -- grad (3, 4), norm 5
  T.near(optim.grad_norm(P), 5, 1e-15)
  T.near(optim.clip_grad(P, 1), 5, 1e-15, "clip returns the norm before")
  T.allclose(P.grad, {0.6, 0.8}, 1e-15, "clipped to norm 1")
  T.near(optim.clip_grad(P, 10), 1, 1e-15); T.allclose(P.grad, {0.6, 0.8}, 1e-15, "no clip below the bound")
  local e = array.from{1, 1}
  optim.ema_update(e, P, 0.9)
  T.allclose(e, {0.9 + 0.3, 0.9 + 0.4}, 1e-15, "ema")
  ad.reset()
end
-- learning-rate schedule: warmup then cosine
T.near(optim.lr_at(1, {lr = 1, warmup = 10}), 0.1, 1e-15, "warmup step 1")
T.near(optim.lr_at(10, {lr = 1, warmup = 10}), 1, 1e-15, "warmup end")
T.near(optim.lr_at(11, {lr = 1, warmup = 10, steps = 110, cosine = true}), 1, 1e-15, "cosine start")
T.near(optim.lr_at(61, {lr = 1, warmup = 10, steps = 110, cosine = true}), 0.5, 1e-15, "cosine middle")
T.near(optim.lr_at(86, {lr = 1, warmup = 10, steps = 110, cosine = true, min_lr = 0.2}),
  0.2 + 0.4 * (1 + math.cos(math.pi * 0.75)), 1e-15, "cosine with min_lr")

-- ---------------------------------------------------------------- conservative network fits a Gaussian score
-- N(0, diag(1, 1/4)): score (-x1, -4 x2). net.gradient(E) by regression.
do
  local E = net.potential{dim = 2, hidden = {32, 32}, act = "tanh", seed = 4, param = "score"}
  local s = net.gradient(E)
  local x = array.randn({2000, 2}, {seed = 11})
  local y = x * array.from{{-1, -4}}
  local L = net.train(s, {data = {x = x, y = y}, loss = loss.regression(), steps = 600, batch = 128, lr = 3e-3, seed = 2})
  local function avg(i, j) local a = 0; for k = i, j do a = a + L[k] end; return a / (j - i + 1) end
  T.eq(L.size, 600)
  assert(avg(551, 600) < avg(1, 20) / 20, string.format("loss must fall 20x: %g -> %g", avg(1, 20), avg(551, 600)))
  local xt = array.randn({200, 2}, {seed = 12})
  local err = (s(xt) - xt * array.from{{-1, -4}}):abs():mean()
  local err0 = (xt * array.from{{-1, -4}}):abs():mean()
  assert(err < 0.1 * err0, string.format("gradient network fits the score: mean error %g (score size %g)", err, err0))
  local J = s:jacobian(xt)
  T.near((J:slice{true, {1, 1}, {2, 2}} - J:slice{true, {2, 2}, {1, 1}}):abs():max(), 0, 1e-12, "gradient network: symmetric Jacobian")
  local m = net.mlp{dim = 2, hidden = {32, 32}, act = "tanh", seed = 4, param = "score"}
  net.train(m, {data = {x = x, y = y}, loss = loss.regression(), steps = 200, batch = 128, lr = 3e-3, seed = 2})
  local Jm = m:jacobian(xt)
  assert((Jm:slice{true, {1, 1}, {2, 2}} - Jm:slice{true, {2, 2}, {1, 1}}):abs():max() > 1e-3, "a plain MLP's Jacobian is not symmetric")
end

-- ---------------------------------------------------------------- DSM on 8gaussians vs the exact score
do
  local vp = diffusion.vp()
  local g = data.toy_density("8gaussians")
  local pts = data.toy("8gaussians", 20000, {seed = 1})
  local m = net.mlp{dim = 2, hidden = {64, 64, 64}, act = "silu", time = "fourier", param = "eps", seed = 3}
  local L = net.train(m, {data = pts, loss = loss.dsm(vp, {target = "eps"}), steps = 3000, batch = 256,
    lr = 3e-3, warmup = 100, cosine = true, seed = 7, ema = 0.99})
  local exact = vp:noised(g).score
  local t = 0.5
  local sig = vp:sigma(t)
  local xt = vp:alpha(t) * data.toy("8gaussians", 1000, {seed = 99}) + sig * array.randn({1000, 2}, {seed = 98})
  local se, sh = exact(xt, t), m(xt, t) * (-1 / sig)
  local d, n = (sh - se), 0
  local rel = 0
  for i = 1, 1000 do
    local a = math.sqrt(d[i][1] ^ 2 + d[i][2] ^ 2)
    local b = math.sqrt(se[i][1] ^ 2 + se[i][2] ^ 2)
    rel = rel + a / b; n = n + 1
  end
  rel = rel / n
  io.stderr:write(string.format("DSM 8gaussians: mean relative score error at t = 0.5: %.4f (final loss %.4f)\n", rel, L[L.size]))
  assert(rel < 0.06, "DSM score within 6% of the exact noised-GMM score, got " .. rel)
  -- an untrained network is far off (the test can fail)
  local m0 = net.mlp{dim = 2, hidden = {64, 64, 64}, act = "silu", time = "fourier", param = "eps", seed = 3}
  local d0 = m0(xt, t) * (-1 / sig) - se
  local r0 = 0
  for i = 1, 1000 do r0 = r0 + math.sqrt(d0[i][1] ^ 2 + d0[i][2] ^ 2) / math.sqrt(se[i][1] ^ 2 + se[i][2] ^ 2) end
  assert(r0 / 1000 > 3 * rel, "untrained network is much worse")
end

-- flow matching: the loss falls well below its initial value
do
  local m = net.mlp{dim = 2, hidden = {32, 32}, time = "fourier", seed = 5}
  local L = net.train(m, {data = data.toy("8gaussians", 4000, {seed = 2}), loss = loss.fm(), steps = 400, batch = 256, lr = 3e-3, seed = 1})
  assert(L[400] < 0.7 * L[1], "fm loss falls")
end

-- ---------------------------------------------------------------- resume bit for bit
do
  local dir = os.tmpname(); os.remove(dir)
  local ck = dir .. ".safetensors"
  local pts = data.toy("8gaussians", 1000, {seed = 4})
  local function opts(extra)
    local o = {data = pts, loss = loss.dsm(diffusion.vp(), {target = "score"}), steps = 40, batch = 64, lr = 1e-2,
      warmup = 5, cosine = true, clip = 1.0, ema = 0.9, seed = 21, optimizer = "adamw"}
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end
  local mk = function() return net.mlp{dim = 2, hidden = {16, 16}, time = "fourier", param = "score", seed = 8} end
  local a = mk()
  local La, ea = net.train(a, opts())
  -- an interrupted run (the error the Ctrl-C hook raises) writes a checkpoint at step 23
  local b = mk()
  T.raises(function()
    net.train(b, opts{checkpoint = ck, every = 10, log = function(s) if s == 23 then error("interrupted!") end end})
  end, "interrupted")
  local st = array.load(ck .. ".state.npy")
  T.eq(st[2], 23, "checkpoint at the interrupted step")
  local c2 = net.load(ck)
  T.allclose(c2(pts), b(pts), 0, "checkpoint model file holds the weights")
  local c = mk()
  local Lc, ec = net.train(c, opts{resume = ck})
  T.allclose(c:params().value, a:params().value, 0, "resumed weights equal the uninterrupted run bit for bit")
  T.allclose(Lc, La, 0, "resumed loss history equals the uninterrupted one")
  T.allclose(ec, ea, 0, "resumed EMA equals the uninterrupted one")
  -- a different seed gives different weights (the comparison can fail)
  local d = mk(); net.train(d, opts{seed = 22})
  assert((d:params().value - a:params().value):abs():max() > 1e-6)
  -- NaN stop names the step and keeps the last good checkpoint
  local e = mk()
  local bad = loss.dsm(diffusion.vp(), {target = "score"})
  T.raises(function()
    net.train(e, opts{checkpoint = ck, every = 5, loss = function(m, batch, rng)
      local l = bad(m, batch, rng)
      if rng.step == 13 then return l * (0 / 0) end
      return l
    end})
  end, "step 13", "last good checkpoint", "step 10")
  T.eq(array.load(ck .. ".state.npy")[2], 10, "last good checkpoint kept")
  os.remove(ck); os.remove(ck .. ".state.npy")
end

-- ---------------------------------------------------------------- the fused DSM step equals the graph
-- net.train runs loss.dsm on a silu mlp as one C call per step; wrapping the
-- same loss in a plain function makes it run on the ad graph instead. Both
-- must give the same losses and weights bit for bit (every target, both
-- weightings, time concat and none, Adam with clipping and EMA, SGD).
do
  local x = data.toy("8gaussians", 500, {seed = 3})
  local vp = diffusion.vp{b0 = 0.1, b1 = 20}
  local cases = {
    {target = "eps", time = "concat"}, {target = "x0", time = "none"}, {target = "score", time = "concat"},
    {target = "velocity", time = "concat", weighting = "sigma2"}, {target = "eps", time = "concat", sgd = true},
  }
  for _, c in ipairs(cases) do
    local function make()
      return net.mlp{dim = 2, out = 2, hidden = {16, 8}, act = "silu", time = c.time, param = c.target, seed = 4}
    end
    local L = loss.dsm(vp, {target = c.target, weighting = c.weighting, t_min = 1e-3, t_max = 1})
    local function opts(l)
      local o = {data = x, loss = l, batch = 33, steps = 25, seed = 9, lr = 3e-3}
      if c.sgd then o.optimizer = "sgd"; o.momentum = 0.9 else o.clip = 0.5; o.ema = 0.9 end
      return o
    end
    local m1, m2 = make(), make()
    local l1, e1 = net.train(m1, opts(L))
    local l2, e2 = net.train(m2, opts(function(m, b, rng) return L(m, b, rng) end))
    local what = c.target .. "/" .. c.time
    T.eq(l1.size, 25, what .. ": 25 losses")
    for i = 1, 25 do T.eq(l1[i], l2[i], what .. ": loss " .. i .. " bit for bit") end
    local p1, p2 = m1:params().value, m2:params().value
    for i = 1, p1.size do assert(p1[i] == p2[i], what .. ": weight " .. i .. " differs") end
    if e1 then for i = 1, e1.size do assert(e1[i] == e2[i], what .. ": EMA weight " .. i .. " differs") end end
    assert(l1[25] < l1[1] * 1.5, what .. ": the loss stays bounded")
  end
  -- networks big enough for the fused step to run on all threads, each
  -- product in slabs (fl_nn_dsm_step): 1 and 2 threads, the graph. Uneven
  -- slabs (batch 203, widths not multiples of 8), and products above
  -- FL_AD_GEMM_SERIAL (which the graph splits its own way).
  local nt = fieldlab.threads()
  local L = loss.dsm(vp)
  for _, net_case in ipairs{{{64, 64}, 256, 6}, {{96, 44, 70}, 203, 4}, {{256, 256}, 130, 2}} do
    local ref
    for _, run in ipairs{{1, false}, {2, false}, {1, true}, {2, true}} do
      fieldlab.set_threads(run[1])
      local m = net.mlp{dim = 2, out = 2, hidden = net_case[1], act = "silu", time = "concat", param = "eps", seed = 5}
      local l = run[2] and function(mm, b, rng) return L(mm, b, rng) end or L
      local steps = net_case[3]
      local losses = net.train(m, {data = x, loss = l, batch = net_case[2], steps = steps, seed = 2})
      local out = {losses = losses, p = m:params().value}
      if not ref then ref = out
      else
        local what = string.format("hidden %s, batch %d, %d threads, %s", table.concat(net_case[1], "x"),
          net_case[2], run[1], run[2] and "graph" or "fused")
        for i = 1, steps do T.eq(out.losses[i], ref.losses[i], what .. ": loss " .. i) end
        for i = 1, out.p.size do assert(out.p[i] == ref.p[i], what .. ": weight " .. i .. " differs") end
      end
    end
  end
  fieldlab.set_threads(nt)
end

print("train: ok")
