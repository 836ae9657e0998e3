-- Lua side of module integrate: printing of results and the progress bar
-- of long runs (documented in man/api/integrate.txt). The integrators
-- themselves are C (src/l_integrate.c on lib/fl_ode.c).
local core = require "fieldlab.core"
local integrate = core.integrate

local Result = {}
Result.__index = Result
Result.__name = "integrate result"

local function shape(a)
  return a and "(" .. table.concat(a.shape, ",") .. ")" or "-"
end

Result.__tostring = function(r)
  local lines = {}
  local function add(fmt, ...) lines[#lines + 1] = string.format(fmt, ...) end
  add("integrate.%s result: %s, %d particle%s in R^%d, t = %.6g%s", r.kind, r.method, r.n,
    r.n == 1 and "" or "s", r.dim, r.t, r.interrupted and " (interrupted)" or "")
  add("  steps %d, rejected %d, field evaluations %d", r.steps, r.rejected, r.evals)
  if r.trajectory then add("  trajectory %s at %d times", shape(r.trajectory), r.times.shape[1]) end
  if r.energy then
    local E = r.energy
    local n = E.shape[1]
    local E0, E1 = E[1], E[n]
    add("  energy %.10g -> %.10g (relative change %.3g)", E0, E1, (E1 - E0) / math.max(math.abs(E0), 1e-300))
  end
  for _, k in ipairs { "x", "q", "p", "Y" } do
    if r[k] then add("  %s %s", k, shape(r[k])) end
  end
  return table.concat(lines, "\n")
end

integrate._Result = Result

-- The progress bar on stderr (called from C at most 5 times a second once a
-- run has taken a second; never with --quiet).
function integrate._progress(frac, seconds, done)
  local width = 30
  local k = math.floor(frac * width + 0.5)
  local eta = frac > 0 and seconds * (1 - frac) / frac or 0
  io.stderr:write(string.format("\r[%s%s] %3d%%  %.1f s%s", string.rep("#", k), string.rep(" ", width - k),
    math.floor(frac * 100 + 0.5), seconds, done and "      \n" or string.format(", %.0f s left ", eta)))
  io.stderr:flush()
end

return integrate
