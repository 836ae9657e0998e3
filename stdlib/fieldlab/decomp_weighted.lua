-- Lua side of decomp.weighted: the result type fieldlab.WeightedDecomp
-- (made in src/l_wdecomp.c as a plain table with a metatable) gets its
-- summary (tostring), :energies() and :save(dir) here. Documented in
-- man/api/decomp-weighted.txt.
local core = require "fieldlab.core"
local mt = core.classes and core.classes["fieldlab.WeightedDecomp"]
if not mt then return {} end
local methods = mt.__methods
local decomp = require "fieldlab.decomp" -- its shared argument checks
local check = decomp._checker(mt, "WeightedDecomp")

-- The split of E_p|v|^2 as a new table (fractions added).
function methods.energies(self)
  check(self, "energies")
  local e = {}
  for k, v in pairs(self._energies) do e[k] = v end
  if e.total > 0 then
    e.gradient_fraction = e.gradient / e.total
    e.gauge_fraction = e.gauge / e.total
  else
    e.gradient_fraction, e.gauge_fraction = 0, 0
  end
  return e
end

local function g(x) return string.format("%.6g", x) end

mt.__tostring = function(self)
  local e = methods.energies(self)
  local lines = {}
  local function add(fmt, ...) lines[#lines + 1] = string.format(fmt, ...) end
  local d = self.phi.dim
  if self.kind == "grid" then
    local n = {}
    for i = 1, d do n[i] = tostring(self.density.shape[i]) end
    add("WeightedDecomp (grid %s, %s, %d-D): v = grad phi + r, div(p r) = 0", table.concat(n, "x"), self.method, d)
    add("  CG: %d iterations, relative residual %.3g (tol %.3g)", self.iterations, self.residual, self.tol)
    add("  E_p|v|^2        = %s", g(e.total))
    add("  E_p|grad phi|^2 = %s  (%.2f%%)", g(e.gradient), 100 * e.gradient_fraction)
    add("  E_p|r|^2        = %s  (%.2f%%)", g(e.gauge), 100 * e.gauge_fraction)
    add("  E_p[grad phi . r] = %s  (orthogonality; p-weighted node sums)", g(e.cross))
  else
    local K = self.coefficients.shape[1]
    local what = self.basis == "poly" and string.format("poly basis of degree %d, %d functions", self.degree, K)
      or string.format("fourier basis, %d features", K)
    add("WeightedDecomp (samples, %d-D, %s, rank %d): v = grad phi + r, div(p r) = 0", d, what, self.rank)
    local nall = self.samples.shape[1]
    add("  fit on %d of %d samples; energies on %s (n = %d)", self.nfit, nall,
      self.nfit < nall and "the held-out samples" or "the fit samples", e.n)
    add("  E_p|v|^2        = %s +- %s", g(e.total), g(e.total_se))
    add("  E_p|grad phi|^2 = %s +- %s  (%.2f%%)", g(e.gradient), g(e.gradient_se), 100 * e.gradient_fraction)
    add("  E_p|r|^2        = %s +- %s  (%.2f%%)", g(e.gauge), g(e.gauge_se), 100 * e.gauge_fraction)
    add("  E_p[grad phi . r] = %s +- %s  (orthogonality)", g(e.cross), g(e.cross_se))
  end
  return table.concat(lines, "\n")
end

-- The directory is created (with its parents) by fieldlab.mkdir.
local function mkdir(dir)
  local ok, err = pcall(require("fieldlab.core").mkdir, dir)
  if not ok then
    error(string.format("WeightedDecomp:save: %s", (tostring(err):gsub("^fieldlab%.mkdir: ", ""))), 3)
  end
end

-- Write the components as .npy files into dir (created when missing).
-- Returns the list of files written.
function methods.save(self, dir)
  check(self, "save")
  decomp._check_dir(dir)
  mkdir(dir)
  local files = {}
  local function put(name, a)
    local path = dir .. "/" .. name .. ".npy"
    a:save(path)
    files[#files + 1] = path
  end
  if self.kind == "grid" then
    put("phi", self.phi.values)
    put("gradient", self.gradient.values)
    put("gauge", self.gauge.values)
    put("density", self.density)
  else
    put("samples", self.samples)
    put("v", self.values.v)
    put("gradient", self.values.gradient)
    put("gauge", self.values.v - self.values.gradient)
    put("phi", self.values.phi)
    put("coefficients", self.coefficients)
    if self.exponents then put("exponents", self.exponents) end
    if self.frequencies then
      put("frequencies", self.frequencies)
      put("phases", self.phases)
    end
  end
  return files
end

return {}
