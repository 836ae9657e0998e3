-- Module ad from Lua: gradcheck and gradgradcheck of every operation through
-- the operators and methods, E = 1/2 |W x|^2 (grad W^T W x, Hessian-vector
-- product W^T W v), a 2-layer tanh MLP (input gradient and the double-backward
-- loss |grad_x E - F|^2 in the parameters against finite differences),
-- parameters across resets, and the graph's lifetime and memory.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- deterministic inputs away from the kinks and poles of the functions below
local function input(r, c, seed, lo, hi)
  local u = array.rand({r, c}, {seed = seed})
  return u * ((hi or 1.5) - (lo or -1.5)) + (lo or -1.5)
end

-- f(list of Vars) -> Var of any shape; L = sum(f .* W) for fixed random W.
local function loss_of(f, xs, W)
  local y = f(xs)
  W = W or input(y.shape[1], y.shape[2], 99)
  return (y * W):sum(), W
end

-- central differences of a scalar function of the arrays xs, one entry at a time
local function fd(fun, xs, i)
  local x = xs[i]
  local g = array.zeros(x.shape)
  for a = 1, x.shape[1] do
    for b = 1, x.shape[2] do
      local x0 = x:get(a, b)
      local h = 1e-5 * math.max(1, math.abs(x0))
      x:set(a, b, x0 + h); local fp = fun(xs)
      x:set(a, b, x0 - h); local fm = fun(xs)
      x:set(a, b, x0)
      g:set(a, b, (fp - fm) / (2 * h))
    end
  end
  return g
end

local function vars(arrays)
  local v = {}
  for i, a in ipairs(arrays) do v[i] = ad.var(a) end
  return v
end

-- gradcheck and gradgradcheck of f at the arrays xs
local function check(name, f, xs)
  ad.reset()
  local L, W = loss_of(f, vars(xs))
  local U = {}
  for i, x in ipairs(xs) do U[i] = input(x.shape[1], x.shape[2], 200 + i) end
  local function value(arrs)
    ad.reset()
    return (loss_of(f, vars(arrs), W)):item()
  end
  -- S = sum_i <dL/dx_i, U_i>, with the first gradient from ad.grad
  local function s_value(arrs)
    ad.reset()
    local v = vars(arrs)
    local g = ad.grad((loss_of(f, v, W)), v)
    local s = 0
    for i = 1, #v do s = s + (g[i] * U[i]):sum():item() end
    return s
  end
  ad.reset()
  local v = vars(xs)
  L = loss_of(f, v, W)
  ad.backward(L)
  local g = ad.grad(L, v, {create_graph = true})
  local S
  for i = 1, #v do
    local t = (g[i] * U[i]):sum()
    S = S and S + t or t
  end
  local h = ad.grad(S, v)
  local back, first, second = {}, {}, {}
  for i = 1, #xs do back[i], first[i], second[i] = v[i].grad, g[i].value, h[i].value end
  for i = 1, #xs do  -- (the finite differences reset the graph)
    T.allclose(first[i], back[i], 1e-13, name .. ": grad equals backward")
    T.allclose(back[i], fd(value, xs, i), 1e-7, name .. ": gradcheck of input " .. i)
    T.allclose(second[i], fd(s_value, xs, i), 1e-7, name .. ": gradgradcheck of input " .. i)
  end
end

local A34, B34 = input(3, 4, 1), input(3, 4, 2)
local pos = input(3, 4, 3, 0.3, 2)
local away = input(3, 4, 4, 0.2, 1.5) * array.from{{1, -1, 1, -1}}
local row, col = input(1, 4, 5), input(3, 1, 6)

check("add", function(x) return x[1] + x[2] end, {A34, B34})
check("add row", function(x) return x[1] + x[2] end, {A34, row})
check("sub col", function(x) return x[1] - x[2] end, {col, A34})
check("mul", function(x) return x[1] * x[2] end, {A34, B34})
check("mul row col", function(x) return x[1] * x[2] end, {col, row})
check("div", function(x) return x[1] / x[2] end, {A34, away})
check("div scalar", function(x) return x[1] / x[2] end, {A34, array.from{{1.7}}})
check("numbers", function(x) return 2 - 3 * x[1] + 1 / x[2] - x[1] / 4 + 0.5 + x[1] * 2 end, {A34, pos})
check("constants", function(x) return x[1] * array.from{1, 2, 3, 4} + B34 end, {A34})
check("neg", function(x) return -x[1] end, {A34})
check("matmul", function(x) return x[1]:matmul(x[2]) end, {A34, input(4, 2, 7)})
check("transpose", function(x) return x[1]:t():matmul(x[2]) end, {A34, B34})
check("sum", function(x) return x[1]:sum() * x[1] end, {A34})
check("sum axes", function(x) return x[1]:sum(1) * x[1]:sum(2) end, {A34})
check("mean axes", function(x) return x[1]:mean(1) + x[1]:mean(-1) * x[1]:mean() end, {A34})
check("reshape", function(x) return x[1]:reshape(2, 6):square() end, {A34})
check("expand", function(x) return x[1]:expand(3, 4) * x[2]:expand(3, 4) end, {row, col})
check("cols", function(x) return x[1]:cols(2, 3) * x[1]:cols(-1) end, {A34})
check("concat_cols", function(x) return ad.concat_cols{x[1], x[2]}:square() end, {A34, col})
check("square", function(x) return x[1]:square() end, {A34})
check("sqrt", function(x) return x[1]:sqrt() end, {pos})
check("exp", function(x) return x[1]:exp() end, {A34})
check("log", function(x) return x[1]:log() end, {pos})
check("sin", function(x) return x[1]:sin() end, {A34})
check("cos", function(x) return x[1]:cos() end, {A34})
check("tanh", function(x) return x[1]:tanh() end, {A34})
check("sigmoid", function(x) return x[1]:sigmoid() end, {A34})
check("softplus", function(x) return x[1]:softplus() end, {A34})
check("silu", function(x) return x[1]:silu() end, {A34})
check("relu", function(x) return x[1]:relu() * x[1] end, {away})
check("gelu", function(x) return x[1]:gelu() end, {A34})

-- E = 1/2 |W x|^2: grad_x E = W^T W x exactly, and the Hessian-vector
-- product through a second grad is W^T W v.
ad.reset()
local Wm, x0, v0 = input(6, 4, 10), input(4, 1, 11), input(4, 1, 12)
local WtW = Wm:t():matmul(Wm)
local x = ad.var(x0)
local E = (ad.const(Wm):matmul(x)):square():sum() * 0.5
local gx = ad.grad(E, x, {create_graph = true})
T.allclose(gx.value, WtW:matmul(x0), 1e-14, "grad of 1/2 |Wx|^2")
local hv = ad.grad((gx * v0):sum(), x)
T.allclose(hv.value, WtW:matmul(v0), 1e-14, "Hessian-vector product")
T.eq(hv.requires_grad, false, "create_graph = false gives a constant")
-- the same with a seed (vector-Jacobian product): d<v, gx>/dx
T.allclose(ad.grad(gx, x, {seed = v0}).value, WtW:matmul(v0), 1e-14, "seed")
-- something E does not depend on: a zero gradient of its shape
local z = ad.var(array.ones{2, 3})
T.allclose(ad.grad(E, z).value, array.zeros{2, 3}, 0, "unrelated variable")

-- A 2-layer tanh MLP E(x) = sum_i v . tanh(W x_i + b), points as rows.
local D, H, N = 2, 8, 5
local P = ad.params()
local W1 = ad.param(input(D, H, 20), P)
local b1 = ad.param(input(1, H, 21), P)
local w2 = ad.param(input(H, 1, 22), P)
T.eq(P.count, 3); T.eq(P.size, D * H + H + H)
local X0, F0 = input(N, D, 23), input(N, D, 24)
local function energy(X) return ((X:matmul(W1) + b1):tanh()):matmul(w2):sum() end
-- input gradient against finite differences in x
ad.reset()
local X = ad.var(X0)
local GX = ad.grad(energy(X), X)
T.allclose(GX.value, fd(function(a) ad.reset(); return energy(ad.const(a[1])):item() end, {X0}, 1), 1e-8,
  "MLP input gradient")
-- the conservative-network loss |grad_x E - F|^2 differentiated in theta
local function cons_loss()
  ad.reset()
  local Xv = ad.var(X0)
  local g = ad.grad(energy(Xv), Xv, {create_graph = true})
  return ((g - F0):square()):mean()
end
P:zero_grad()
ad.backward(cons_loss())
local theta, analytic = P.value, P.grad
local num = array.zeros(theta.shape)
for k = 1, P.size do
  local t0 = theta[k]
  local h = 1e-5 * math.max(1, math.abs(t0))
  theta[k] = t0 + h; P:set(theta); local lp = cons_loss():item()
  theta[k] = t0 - h; P:set(theta); local lm = cons_loss():item()
  theta[k] = t0; P:set(theta)
  num[k] = (lp - lm) / (2 * h)
end
T.allclose(analytic, num, 1e-7, "grad_theta |grad_x E - F|^2")
assert(analytic:abs():max() > 1e-2, "a gradient that is not trivially zero")
-- per-parameter views of the block gradient agree with it
T.allclose(W1.grad:reshape(D * H), analytic:slice{{1, D * H}}, 0, "W1.grad is its part of P.grad")

-- gradients accumulate over backward calls, zero_grad clears them
ad.reset()
local q = ad.var{{1, 2, 3}}
local Lq = (q * q):sum()
T.eq(q.grad, nil, "no gradient before backward")
ad.backward(Lq); ad.backward(Lq)
T.allclose(q.grad, {{4, 8, 12}}, 0, "accumulated")
q:zero_grad()
T.allclose(q.grad, {{0, 0, 0}}, 0, "zero_grad")
local c = ad.const{{1, 2}}
T.eq(c.requires_grad, false); T.eq(ad.var({{1}}, {requires_grad = false}).requires_grad, false)
T.eq(ad.is_var(q), true); T.eq(ad.is_var(array.zeros(1)), false)
T.eq(table.concat(ad.var(array.zeros{2, 5}).shape, ","), "2,5")
T.eq(table.concat(ad.var(array.zeros(4)).shape, ","), "1,4", "a 1-D array is a row")
T.eq(ad.var(3):item(), 3)

-- lifetime: reset invalidates variables, not parameters
local old = ad.var{{1}}
ad.reset()
T.raises(function() return old + 1 end, "ad: variable from a reset graph")
T.raises(function() return old.value end, "ad: variable from a reset graph")
assert(tostring(old):find("reset graph"), "tostring of a stale variable works")
local pv = ad.param(array.from{{2, 3}})
local Lp = (pv * pv):sum()
ad.backward(Lp)
ad.reset()
T.allclose(pv.grad, {{4, 6}}, 0, "parameter gradient survives the reset")
ad.backward((pv * pv):sum())
T.allclose(pv.grad, {{8, 12}}, 0, "and accumulates in the next graph")
pv:set{{1, 1}}
T.allclose(pv.value, {{1, 1}}, 0, "set")
T.raises(function() q:set{{1}} end, "only a parameter")

-- memory: backward adds no nodes; a repeated step allocates nothing new;
-- release gives everything back
ad.reset{release = true}
collectgarbage(); collectgarbage()
local base = fieldlab.mem_in_use()
local function step()
  local Xs = ad.const(X0)
  local Ls = energy(Xs):square()
  local n0 = ad.stats().nodes
  ad.backward(Ls)
  T.eq(ad.stats().nodes, n0, "backward leaves the graph as it was")
  ad.reset()
end
step()
local steady = fieldlab.mem_in_use()
assert(steady > base, "the graph keeps its arena for the next step")
for _ = 1, 10 do step() end
T.eq(fieldlab.mem_in_use(), steady, "no growth over steps")
ad.reset{release = true}
T.eq(fieldlab.mem_in_use(), base, "release gives the arena back")
