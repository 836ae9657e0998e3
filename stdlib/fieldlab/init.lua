-- fieldlab: the Lua API.
-- `require "fieldlab"` returns this table; the fieldlab program calls
-- export(_G) so the modules are globals there.
local core = require "fieldlab.core"

local M = {}

-- Module tables exported as globals by export(); each is documented in
-- man/api/<name>.txt.
M.modules = { "fieldlab", "array", "field", "diffusion", "data", "decomp", "integrate", "metric", "check", "ad", "sample", "net", "plot", "optim", "loss" }

M.fieldlab = M
M.array = core.array
M.field = core.field
M.diffusion = core.diffusion
M.data = core.data

-- The matrix-field modules exist only in a build with FLINT and MPFR.
for _, name in ipairs{ "poly", "cmf", "pcf", "const" } do
  if core[name] then
    M.modules[#M.modules + 1] = name
    M[name] = core[name]
  end
end
M.decomp = core.decomp
M.integrate = core.integrate
M.metric = core.metric
M.check = core.check
M.ad = core.ad
M.sample = core.sample
M.net = core.net
M.plot = core.plot
M.optim = core.optim
M.loss = core.loss

-- Runtime settings (implemented in C).
M.version = core.version
M.threads = core.threads
M.set_threads = core.set_threads
M.seed = core.seed
M.set_seed = core.set_seed
M.quiet = core.quiet
M.set_quiet = core.set_quiet
M.collect = core.collect
M.mem_in_use = core.mem_in_use
M.clock = core.clock
M.mkdir = core.mkdir
M.json = function(v) return (require("fieldlab.json").encode(v)) end

-- Lua-side additions to the C types (printing and the like).
require "fieldlab.array"
require "fieldlab.field"
require "fieldlab.diffusion"
require "fieldlab.data"
if core.cmf then require "fieldlab.cmf" end
require "fieldlab.decomp"
require "fieldlab.decomp_weighted"
require "fieldlab.integrate"
require "fieldlab.metric"
require "fieldlab.check"
require "fieldlab.ad"
require "fieldlab.sample"
require "fieldlab.net"
require "fieldlab.plot"
require "fieldlab.train"

M.help = require("fieldlab.help").help

-- Install the modules and help() as globals of env (default _G).
function M.export(env)
  env = env or _G
  for _, name in ipairs(M.modules) do env[name] = M[name] end
  env.help = M.help
  return env
end

return M
