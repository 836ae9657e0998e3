-- Lua side of module net: the parameter block of a network (model:params())
-- and its forward pass on the ad graph (model:forward(x, t)), written with
-- the engine's operations so that a loss on it differentiates in the
-- parameters (and, with create_graph, on input gradients).
local core = require "fieldlab.core"
local net, ad, array = core.net, core.ad, core.array
local methods = core.classes["fieldlab.Field"].__methods

-- The ad.Params block and parameter Vars {W1, b1, W2, b2, ...} of model m,
-- made on first use: the network then reads its weights from that block.
local function bound(m, fname)
  local P, vars = net._bound(m, fname)
  if not P then
    P, vars = ad.params(), {}
    for k, a in ipairs(net._tensors(m)) do vars[k] = P:param(a) end
    net._bind(m, P, vars)
  end
  return P, vars
end

function methods.params(m)
  return (bound(m, "model:params"))
end

local cgradient = net.gradient
function net.gradient(E)
  local arch = core.field.is_field(E) and E.arch
  if not arch then
    error("net.gradient: needs a potential network (net.potential), not " ..
      (core.field.is_field(E) and "a " .. E.kind .. " field" or "a " .. type(E)), 2)
  end
  if arch.kind ~= "potential" then
    error("net.gradient: needs a potential (net.potential), not a network of kind " .. arch.kind, 2)
  end
  bound(E, "net.gradient")   -- E and its gradient share one block
  return cgradient(E)
end

local function time_features(kind, t, n)
  if kind == "none" then return nil end
  local tv
  if ad.is_var(t) then tv = t
  else tv = ad.const(array.full({n, 1}, t or 0)) end
  if kind == "concat" then return tv end
  local cols = {}
  for k = 0, 7 do
    local w = kind == "fourier" and math.pi * (k + 1) or 1000 ^ (k / 7)
    local a = tv * w
    cols[#cols + 1] = a:sin()
    cols[#cols + 1] = a:cos()
  end
  return ad.concat_cols(cols)
end

-- The base MLP on the graph: x an n x dim Var, t a number or an n x 1 Var.
local function base(m, vars, x, t)
  local arch = m.arch
  local n = x.shape[1]
  local e = time_features(arch.time, t, n)
  local h = e and ad.concat_cols{x, e} or x
  local L = #vars // 2
  for l = 1, L do
    h = h:dense(vars[2 * l - 1], vars[2 * l])
    if l < L then h = h[arch.act](h) end
  end
  return h
end

-- A's pair (i < j) -> output k, sign s (as in lib/fl_nn.c).
local function pair(d, i, j)
  if d == 3 then
    if i == 1 and j == 2 then return 3, 1 elseif i == 1 and j == 3 then return 2, -1 else return 1, 1 end
  end
  return (i - 1) * d - (i - 1) * i // 2 + (j - i - 1) + 1, 1
end

function methods.forward(m, x, t)
  local _, vars = bound(m, "model:forward")
  local arch = m.arch
  -- an Array becomes a constant unless the output differentiates in x
  -- (gradient and divfree networks): no input gradient to compute then
  if not ad.is_var(x) then x = (arch.kind == "mlp" or arch.kind == "potential") and ad.const(x) or ad.var(x) end
  local d = arch.dim
  if x.shape[2] ~= d then
    error(string.format("model:forward: x has %d columns, the network takes %d", x.shape[2], d), 2)
  end
  local g = base(m, vars, x, t)
  if arch.kind == "mlp" or arch.kind == "potential" then return g end
  if arch.kind == "gradient_net" then
    return ad.grad(g:sum(), x, {create_graph = true})
  end
  -- divfree: v_i = sum_j d_j A_ij
  local G = {}
  for k = 1, arch.out do G[k] = ad.grad(g:cols(k):sum(), x, {create_graph = true}) end
  local v = {}
  for i = 1, d do
    for j = i + 1, d do
      local k, s = pair(d, i, j)
      local a, b = G[k]:cols(j) * s, G[k]:cols(i) * (-s)
      v[i] = v[i] and v[i] + a or a
      v[j] = v[j] and v[j] + b or b
    end
  end
  return ad.concat_cols(v)
end

return net
