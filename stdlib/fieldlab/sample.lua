-- Lua side of module sample: the exact posterior of a Gaussian mixture under
-- a linear-Gaussian measurement (the reference for FlowChef, V9 of
-- reference/diffusion.md) and a table printer for sampler comparisons. The
-- samplers themselves are C (src/l_sample.c on lib/fl_sample.c).
local core = require "fieldlab.core"
local sample = core.sample
local array = core.array
local field = core.field

local function as_matrix(a)
  a = array.is_array(a) and a or array.from(a)
  if #a.shape == 1 then a = a:reshape{1, a.shape[1]} end
  return a
end

-- Posterior of the prior GMM g given y = A x + n, n ~ N(0, noise^2 I):
--   S'_k = (S_k^-1 + A^T A / noise^2)^-1,  m'_k = S'_k (S_k^-1 m_k + A^T y / noise^2),
--   w'_k ~ w_k N(y; A m_k, noise^2 I + A S_k A^T).
function sample.gmm_posterior(g, m)
  if type(m) ~= "table" then error("sample.gmm_posterior: the measurement must be a table {A =, y =, noise =}", 2) end
  for k in pairs(m) do
    if k ~= "A" and k ~= "y" and k ~= "noise" then
      error(string.format("sample.gmm_posterior: unknown option '%s' (valid: A, y, noise)", tostring(k)), 2)
    end
  end
  local A = as_matrix(m.A)
  local M, d = A.shape[1], A.shape[2]
  if d ~= g.dim then error(string.format("sample.gmm_posterior: A has %d columns, the mixture is in R^%d", d, g.dim), 2) end
  local y = array.is_array(m.y) and m.y or array.from(type(m.y) == "number" and { m.y } or m.y)
  if y.size ~= M then error(string.format("sample.gmm_posterior: y must have %d numbers (the rows of A)", M), 2) end
  y = y:reshape{M, 1}
  local s2 = (m.noise or 1) ^ 2
  local At = A:t()
  local means, covs, w = g.means, g.covs, g.weights
  local nm, nc, lw = {}, {}, {}
  local mx = -math.huge
  for k = 1, g.k do
    local Sk = covs[k]:copy()
    local mk = means[k]:copy():reshape{d, 1}
    local Pk = array.solve(Sk, array.eye(d))
    local Pn = Pk + At:matmul(A) / s2
    local Sn = array.solve(Pn, array.eye(d))
    Sn = (Sn + Sn:t()) / 2
    local mn = Sn:matmul(Pk:matmul(mk) + At:matmul(y) / s2)
    local C = A:matmul(Sk):matmul(At) + array.eye(M) * s2
    local r = y - A:matmul(mk)
    local _, ld = array.logdet(C)
    local q = (r:t():matmul(array.solve(C, r)))[1][1]
    lw[k] = math.log(w[k]) - 0.5 * (ld + q)
    if lw[k] > mx then mx = lw[k] end
    nm[k] = mn:reshape{d}:totable()
    nc[k] = Sn:totable()
  end
  local ws = {}
  for k = 1, g.k do ws[k] = math.exp(lw[k] - mx) end
  return field.gmm{means = nm, covs = nc, weights = ws}
end

-- rows = {{name, nfe, value, ...}, ...}: a fixed-width table as a string.
function sample.table(header, rows)
  local out = { table.concat(header, "\t") }
  for _, r in ipairs(rows) do
    local cells = {}
    for i, v in ipairs(r) do
      cells[i] = type(v) == "number" and (math.type(v) == "integer" and tostring(v) or string.format("%.4g", v)) or tostring(v)
    end
    out[#out + 1] = table.concat(cells, "\t")
  end
  return table.concat(out, "\n")
end

return sample
