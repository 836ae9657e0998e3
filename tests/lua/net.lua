-- Networks as fields (module net): forward passes against closed forms,
-- exact Jacobians against central differences, conservative and
-- divergence-free constructions, the ad forward pass, save/load and the
-- PyTorch import.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- architecture, parameter count, properties
local m = net.mlp{dim = 2, hidden = {16, 16}, act = "tanh", seed = 1}
T.eq(m.nparams, (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2), "nparams")
T.eq(m.kind, "mlp"); T.eq(m.dim, 2); T.eq(m.codim, 2); T.eq(m.arch.act, "tanh"); T.eq(m.param, "velocity")
T.eq(net.mlp{dim = 3, out = 1, seed = 2}.codim, 1, "out")
T.eq(net.divfree{dim = 4, hidden = {8}}.arch.out, 6, "divfree d=4 has d(d-1)/2 outputs")
T.eq(net.mlp{dim = 2, time = "fourier"}.time_dependent, true)
T.eq(net.mlp{dim = 2, param = "score"}.param, "score")
T.eq(field.fn(function(x) return x end, {dim = 2}).nparams, nil, "not a network: no nparams")

-- one hidden layer, closed forms: E = v . tanh(x W + b) + c,
-- grad E = W (v * (1 - h^2)), Hessian = W diag(-2 v h (1 - h^2)) W^T
local E = net.potential{dim = 3, hidden = {5}, act = "tanh", seed = 3}
local P = E:params()
T.eq(P.count, 4, "W1 b1 W2 b2")
local vars = {}
local x = array.randn({6, 3}, {seed = 4})
local W, b, v, c = net._tensors(E)[1], net._tensors(E)[2], net._tensors(E)[3], net._tensors(E)[4]
local h = (x:matmul(W) + b):tanh()                 -- 6 x 5
T.allclose(E(x), h:matmul(v) + c, 1e-13, "E(x)")
local G = net.gradient(E)
local s = (1 - h * h) * v:reshape(1, 5)            -- 6 x 5
T.allclose(G(x), s:matmul(W:t()), 1e-13, "grad E closed form")
local J = G:jacobian(x)
T.eq(J.exact, true)
for i = 1, 6 do
  local w = (h:row(i) * s:row(i) * -2)             -- 5
  local H = (W * w:reshape(1, 5)):matmul(W:t())
  T.allclose(J[i], H, 1e-13, "Hessian closed form at point " .. i)
end
-- a potential without hidden layers is linear: its gradient is its weight, exactly
local L0 = net.potential{dim = 3, hidden = {}, seed = 9}
T.allclose(net.gradient(L0)(x), array.ones{6, 1}:matmul(net._tensors(L0)[1]:t()), 0, "linear potential")

-- exact Jacobians against central differences, every kind
local function fd_check(f, X, t, tol)
  local Je = f:jacobian(X, t)
  assert(Je.exact, f.kind .. ": exact Jacobian")
  local d, n = f.dim, X.shape[1]
  local hstep = 1e-5
  for bb = 1, d do
    local e = array.zeros{1, d}; e:set(1, bb, hstep)
    local fd = (f(X + e, t) - f(X - e, t)) / (2 * hstep)
    local col = Je:slice{true, true, bb}:reshape(n, f.codim)
    T.allclose(col, fd, tol, f.kind .. " column " .. bb)
  end
end
local X2, X3, X4 = array.randn({9, 2}, {seed = 11}), array.randn({9, 3}, {seed = 12}), array.randn({9, 4}, {seed = 13})
fd_check(net.mlp{dim = 3, hidden = {20, 20}, act = "silu", time = "sinusoidal", seed = 5}, X3, 0.3, 1e-6)
fd_check(net.potential{dim = 2, hidden = {20, 20}, act = "gelu", seed = 6}, X2, 0, 1e-6)
fd_check(net.gradient(net.potential{dim = 3, hidden = {20, 20}, act = "softplus", time = "concat"}), X3, 0.7, 1e-6)
fd_check(net.divfree{dim = 2, hidden = {20}, act = "tanh", seed = 7}, X2, 0, 1e-6)
fd_check(net.divfree{dim = 3, hidden = {20, 20}, act = "silu", seed = 8}, X3, 0, 1e-6)
fd_check(net.divfree{dim = 4, hidden = {20, 20}, act = "sigmoid", seed = 9}, X4, 0, 1e-6)

-- conservative by construction; a plain MLP is not (check.jacobian, one line each)
local gr = check.jacobian(net.gradient(net.potential{dim = 3, hidden = {32, 32}, seed = 1}), {points = X3})
local pl = check.jacobian(net.mlp{dim = 3, hidden = {32, 32}, seed = 1}, {points = X3})
assert(gr.exact and gr.nasym:max() < 1e-24, "gradient net NAsym " .. gr.nasym:max())
assert(pl.nasym:min() > 1e-4, "plain MLP NAsym " .. pl.nasym:min())

-- divergence-free to 1e-10 at random points, d = 2, 3, 4
for d = 2, 4 do
  local f = net.divfree{dim = d, hidden = {32, 32}, act = "silu", time = "fourier", seed = 20 + d}
  local Xd = array.randn({100, d}, {seed = 30 + d}) * 2
  assert(f:div(Xd, 0.4):abs():max() < 1e-10, "divfree d=" .. d)
  assert(f(Xd, 0.4):abs():max() > 1e-3, "divfree d=" .. d .. " is not trivially zero")
end

-- field algebra and composition with other fields
local q = net.mlp{dim = 2, seed = 4}
T.allclose((q + q)(X2), q(X2) * 2, 1e-15, "field algebra")

-- the forward pass on the ad graph equals the field, for every kind
for _, f in ipairs{m, E, G, net.divfree{dim = 3, hidden = {8}, seed = 2},
                   net.mlp{dim = 2, hidden = {8}, time = "fourier", act = "relu"}} do
  local X = f.dim == 2 and X2 or X3
  T.allclose(f:forward(X, 0.25).value, f(X, 0.25):reshape(X.shape[1], f.codim), 1e-13, f.kind .. " forward")
  ad.reset()
end
-- training updates reach the field: the network reads the Params block
local P2 = q:params()
local loss = q:forward(X2):square():mean()
ad.backward(loss)
assert(P2.grad:abs():max() > 0, "gradients in the block")
P2:set(P2.value * 0)
T.allclose(q(X2), array.zeros{9, 2}, 0, "the field reads the block")
ad.reset()

-- parameter gradients through forward (a gradient net: double backward, and a
-- time-dependent divfree net with t an n x 1 variable) against central
-- differences of the field in its parameters
for _, f in ipairs{net.gradient(net.potential{dim = 2, hidden = {6, 6}, act = "tanh", seed = 3}),
                   net.divfree{dim = 3, hidden = {5}, act = "silu", time = "fourier", seed = 4}} do
  local X = f.dim == 2 and X2 or X3
  local tv = ad.const(array.linspace(0, 1, X.shape[1]):reshape(X.shape[1], 1))
  local U = array.randn({X.shape[1], f.dim}, {seed = 5})
  local Pf = f:params()
  Pf:zero_grad()
  ad.backward((f:forward(X, tv) * U):sum())
  local g, v0 = Pf.grad, Pf.value
  local function Lval()   -- the same sum from the field, t per point
    local s = 0
    for i = 1, X.shape[1] do s = s + (f(X[i], tv.value:get(i, 1)) * U[i]):sum() end
    return s
  end
  for _, k in ipairs{1, 3, Pf.size // 2, Pf.size - 1, Pf.size} do
    local hstep = 1e-6
    local vp, vm = array.from(v0), array.from(v0)
    vp[k] = vp[k] + hstep; vm[k] = vm[k] - hstep
    Pf:set(vp); local Lp = Lval()
    Pf:set(vm); local Lm = Lval()
    T.near(g[k], (Lp - Lm) / (2 * hstep), 1e-6, f.kind .. " dL/dparam " .. k)
  end
  Pf:set(v0)
  ad.reset()
end

-- JVP and VJP against the Jacobian
local Jq = m:jacobian(X2, 0)
local V = array.randn({9, 2}, {seed = 1})
local jv, vj = m:jvp(X2, V), m:vjp(X2, V)
for i = 1, 9 do
  local Ji = Jq[i]
  T.allclose(jv:row(i), Ji:matmul(V:row(i)), 1e-13, "jvp")
  T.allclose(vj:row(i), Ji:t():matmul(V:row(i)), 1e-13, "vjp")
end

-- save -> load: bit-identical outputs
local path = os.tmpname()
for _, f in ipairs{m, G, net.divfree{dim = 3, hidden = {8}, time = "sinusoidal", param = "eps"}} do
  f:save(path)
  local g = net.load(path)
  T.eq(g.kind, f.kind); T.eq(g.param, f.param); T.eq(g.nparams, f.nparams)
  local X = f.dim == 2 and X2 or X3
  T.allclose(g(X, 0.6), f(X, 0.6), 0, "round trip " .. f.kind)
end
os.remove(path)

-- many points go in blocks over the threads: each point's result is the one
-- it has alone (to rounding: dgemm's order of sums depends on the sizes)
do
  local big = net.mlp{dim = 2, hidden = {256, 256}, time = "concat", seed = 7}
  local Eb = net.potential{dim = 2, hidden = {128, 128}, seed = 8}
  local gb = net.gradient(Eb)
  local Y = array.randn({2000, 2}, {seed = 9})
  local J, v, H, gv = big:jacobian(Y, 0.3), big(Y, 0.3), Eb:hessian(Y), gb(Y)
  for _, i in ipairs{1, 171, 1000, 2000} do
    local y = Y:slice{{i, i}}
    T.allclose(big:jacobian(y, 0.3), J:slice{{i, i}}, 1e-14, "Jacobian of point " .. i .. " alone")
    T.allclose(big(y, 0.3), v:slice{{i, i}}, 1e-14, "value of point " .. i .. " alone")
    T.allclose(Eb:hessian(y), H:slice{{i, i}}, 1e-14, "Hessian of point " .. i .. " alone")
    T.allclose(gb(y), gv:slice{{i, i}}, 1e-14, "gradient network at point " .. i .. " alone")
  end
end

-- PyTorch import: outputs equal those torch computed (tests/data/make_torch_mlp.py)
local fixture = T.data .. "torch_mlp.safetensors"
local fh = io.open(fixture, "rb")
if not fh then
  io.stderr:write("net.lua: SKIPPED the PyTorch import check: " .. fixture .. " is missing\n")
else
  fh:close()
  local ts = net.read_tensors(fixture)
  local tm = net.import_torch(fixture, {arch = "2:16,16:2:tanh"})
  T.allclose(tm(ts.inputs), ts.expected, 1e-12, "torch outputs")
  local tm2 = net.import_torch(fixture, {arch = {dim = 2, hidden = {16, 16}, out = 2, act = "tanh"}})
  T.allclose(tm2(ts.inputs), ts.expected, 1e-12, "torch outputs, table arch")
end
print("net: ok")
