-- Lua side of module decomp: the Helmholtz result type (fieldlab.Helmholtz,
-- made by decomp.helmholtz in src/l_decomp.c): lazy spectral potentials,
-- energies, printing and saving. Documented in man/api/decomp.txt.
local core = require "fieldlab.core"
local decomp = core.decomp
local mt = core.classes["fieldlab.Helmholtz"]
local methods = mt.__methods

-- Potentials of a periodic split are made on first access (one more r2c and
-- c2r each), so that the split itself costs one forward and one inverse
-- transform.
local lazy = { phi = true, psi = true, A = true }

mt.__index = function(self, k)
  local m = methods[k]
  if m ~= nil then return m end
  if k == "harmonic" and rawget(self, "_harmonic_coef") then
    local h = decomp._harmonic(rawget(self, "gradient"), rawget(self, "_harmonic_coef"))
    rawset(self, "harmonic", h)
    return h
  end
  if lazy[k] and rawget(self, "boundary") == "periodic" then
    local dim = rawget(self, "dim")
    if (k == "psi" and dim ~= 2) or (k == "A" and dim ~= 3) then return nil end
    local src = k == "phi" and rawget(self, "gradient") or rawget(self, "solenoidal")
    local p = decomp._potential(src, k == "phi" and 0 or 1)
    rawset(self, k, p)
    return p
  end
  return nil
end

-- Argument checks of result methods, shared with decomp_weighted.lua
-- (undocumented). decomp._checker(rmt, tname) returns check(self, fname),
-- which raises "bad argument #1 to 'fname' (tname expected, got ...)" at the
-- method's caller unless self has the metatable rmt; decomp._check_dir(dir)
-- raises at the caller of :save unless dir is a string. Both must be called
-- directly from the method (the error levels count on it).
function decomp._checker(rmt, tname)
  return function(self, fname)
    if getmetatable(self) ~= rmt then
      error(string.format("bad argument #1 to '%s' (%s expected, got %s)", fname, tname, type(self)), 3)
    end
  end
end

function decomp._check_dir(dir)
  if type(dir) ~= "string" then
    error(string.format("bad argument #1 to 'save' (directory name expected, got %s)", type(dir)), 3)
  end
end

local check = decomp._checker(mt, "Helmholtz")

function methods.energies(self)
  check(self, "energies")
  local e = rawget(self, "_energy")
  local t = e.total
  local function frac(x) return t > 0 and x / t or 0 end
  return { gradient = frac(e.gradient), solenoidal = frac(e.solenoidal), harmonic = frac(e.harmonic), total = t }
end

-- The names of the components available (periodic potentials without
-- computing them), in a fixed order.
local function components(self)
  local names = { "gradient", "solenoidal", "harmonic" }
  local periodic = rawget(self, "boundary") == "periodic"
  for _, k in ipairs { "phi", rawget(self, "dim") == 2 and "psi" or "A" } do
    if periodic or rawget(self, k) ~= nil then names[#names + 1] = k end
  end
  return names
end

function methods.save(self, dir)
  check(self, "save")
  decomp._check_dir(dir)
  local ok, err = pcall(require("fieldlab.core").mkdir, dir)
  if not ok then error("Helmholtz:save: " .. tostring(err):gsub("^fieldlab%.mkdir: ", ""), 2) end
  local files = {}
  for _, name in ipairs(components(self)) do
    local path = dir .. "/" .. name .. ".npy"
    self[name].values:save(path)
    files[#files + 1] = path
  end
  return files
end

local function grid_str(g)
  local n, box, per = g.n, g.box, g.periodic
  local ns, bs = {}, {}
  for k = 1, #n do
    ns[k] = tostring(n[k])
    bs[k] = string.format("[%.6g, %.6g%s", box[k][1], box[k][2], per[k] and ")" or "]")
  end
  return table.concat(ns, "x") .. " nodes on " .. table.concat(bs, " x ")
end

mt.__tostring = function(self)
  local e = methods.energies(self)
  return string.format(
    "Helmholtz decomposition (%s, %d-D grid of %s)\n" ..
    "  fractions of int |v|^2 = %.6g: gradient %.6f, solenoidal %.6f, harmonic %.6f (sum %.6f)\n" ..
    "  components: %s",
    self.boundary, self.dim, grid_str(rawget(self, "gradient")), e.total, e.gradient, e.solenoidal, e.harmonic,
    e.gradient + e.solenoidal + e.harmonic, table.concat(components(self), ", "))
end

return decomp
