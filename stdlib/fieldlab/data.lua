-- Lua side of module data: the exact densities of the toy sets that are
-- Gaussian mixtures, as field.gmm fields (documented in man/api/data.txt).
local core = require "fieldlab.core"
local data = core.data

-- name -> function returning the field.gmm options of its exact density.
-- The components are in the generator's order (lib/fl_data.c).
local mixtures = {
  ["8gaussians"] = function()
    local s = 1 / math.sqrt(2)
    local u = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 }, { s, s }, { s, -s }, { -s, s }, { -s, -s } }
    local means, covs, weights = {}, {}, {}
    local sd = 0.5 / 1.414
    for k, c in ipairs(u) do
      means[k] = { 4 * c[1] / 1.414, 4 * c[2] / 1.414 }
      covs[k] = sd * sd
      weights[k] = 1 / 8
    end
    return { means = means, covs = covs, weights = weights }
  end,
}

local function mixture_names()
  local t = {}
  for _, name in ipairs(data.names()) do
    if mixtures[name] then t[#t + 1] = name end
  end
  return table.concat(t, ", ")
end

function data.toy_density(name)
  if type(name) ~= "string" then
    error(string.format("bad argument #1 to 'toy_density' (string expected, got %s)", type(name)), 2)
  end
  local make = mixtures[name]
  if not make then
    local known = false
    for _, n in ipairs(data.names()) do known = known or n == name end
    if known then
      error(string.format("data.toy_density: '%s' has no closed-form density (sets with one: %s)",
        name, mixture_names()), 2)
    end
    error(string.format("data.toy_density: unknown toy data set '%s' (valid: %s)", name,
      table.concat(data.names(), ", ")), 2)
  end
  local gmm = core.field and core.field.gmm
  if not gmm then error("data.toy_density: field.gmm is not available in this build", 2) end
  return gmm(make())
end

return data
