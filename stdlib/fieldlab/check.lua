-- Lua side of module check (man/api/check.txt): the summaries of the
-- single tests (computed in C by check._jacobian, _curl, _circulation,
-- _paths and check.stats), the battery check.conservativity and its report
-- type fieldlab.CheckReport (tostring table, :json(), :save(path), .verdict).
local core = require "fieldlab.core"
local check = core.check
if not check or not check._jacobian then return {} end
local array, field = core.array, core.field

local mt = core.classes["fieldlab.CheckReport"]
local methods = mt.__methods

local FLOOR_NASYM = { exact = 1e-24, differences = 1e-12, probes = 1e-10 }
local FLOOR_MIN = 1e-15 -- no relative circulation floor below this (rounding of the sums)
local ABOVE = 10        -- a loop or path counts as above its floor beyond ABOVE times it

local function stat_opts(opts)
  return { quantiles = opts.quantiles, bootstrap = opts.bootstrap, level = opts.level }
end

local function copyopts(opts, drop)
  local o = {}
  for k, v in pairs(opts) do if not drop[k] then o[k] = v end end
  return o
end

local function need_opts(opts, fname)
  if type(opts) ~= "table" then
    error(string.format("bad argument #2 to '%s' (option table expected, got %s)", fname, type(opts)), 3)
  end
end

---------------------------------------------------------------- single tests

-- The NAsym floor of a grid field: the Jacobian of an interpolant is exact for
-- the interpolant, which is no gradient field even when the sampled field is.
-- Measure what interpolation alone gives: the same test, at the same points,
-- on the gradient of phi = prod_k cos(2 pi (x_k - a_k) / L_k) sampled on the
-- same grid with the same interpolation (periodic or not, smooth at the
-- grid's own scale).
local function grid_floor(f, opts)
  local d, box = f.dim, f.box
  local ref = field.fn(function(x)
    local th, c, sn = {}, {}, {}
    for k = 1, d do
      local a, b = box[k][1], box[k][2]
      th[k] = (x:col(k) - a) * (2 * math.pi / (b - a))
      c[k], sn[k] = th[k]:cos(), th[k]:sin()
    end
    local cols = {}
    for j = 1, d do
      local g = sn[j] * (-2 * math.pi / (box[j][2] - box[j][1]))
      for k = 1, d do if k ~= j then g = g * c[k] end end
      cols[j] = g
    end
    return array.stack(cols, 2)
  end, { dim = d })
  local r = check._jacobian(field.sample(ref, f), opts)
  local finite = {}
  for i = 1, r.nasym.size do
    local v = r.nasym[i]
    if v == v then finite[#finite + 1] = v end
  end
  local worst = 0
  for _, v in ipairs(finite) do if v > worst then worst = v end end
  return worst
end

function check.jacobian(f, opts)
  need_opts(opts, "jacobian")
  local r = check._jacobian(f, opts)
  r.summary = check.stats(r.nasym, stat_opts(opts))
  r.asym_summary = check.stats(r.asym, stat_opts(opts))
  r.floor = r.method == "probes" and FLOOR_NASYM.probes or (r.exact and FLOOR_NASYM.exact or FLOOR_NASYM.differences)
  if f.kind == "grid" and r.method ~= "probes" and f.codim == f.dim then
    r.floor = math.max(r.floor, grid_floor(f, opts))
    r.floor_how = "interpolation (a gradient field sampled on the same grid)"
  end
  return r
end

function check.curl(f, opts)
  need_opts(opts, "curl")
  local r = check._curl(f, opts)
  r.summary = check.stats(r.magnitude, stat_opts(opts))
  return r
end

-- Per-item floors max(reference, halving, FLOOR_MIN) and the count above ABOVE times them.
local function floors(r)
  local n = r.n
  local fl = {}
  local above, finite = 0, 0
  for i = 1, n do
    local f = math.max(r.floor[i], FLOOR_MIN)
    if r.halving then
      local h = r.halving[i]
      if h == h then f = math.max(f, h) end
    end
    fl[i] = f
    local v = math.abs(r.relative[i])
    if v == v and v < math.huge then
      finite = finite + 1
      if v > ABOVE * f then above = above + 1 end
    end
  end
  return n > 0 and array.from(fl) or array.zeros(0), above, finite
end

local function integral_summaries(r, opts)
  local so = stat_opts(opts)
  r.summary = check.stats(r.relative:abs(), so)
  r.signed_summary = check.stats(r.relative, so)
  local fl, above, finite = floors(r)
  r.floor_total = fl
  r.floor_summary = check.stats(fl, { quantiles = { 0.5, 1 }, bootstrap = 0 })
  r.above, r.finite = above, finite
  return r
end

function check.circulation(f, opts)
  need_opts(opts, "circulation")
  local r = integral_summaries(check._circulation(f, opts), opts)
  local so = stat_opts(opts)
  r.per_area_summary = check.stats(r.per_area, so)
  r.small_loop_summary = check.stats(r.small_loop, so)
  return r
end

function check.path_independence(f, opts)
  need_opts(opts, "path_independence")
  return integral_summaries(check._paths(f, opts), opts)
end

---------------------------------------------------------------- the battery

local ALL_TESTS = { jacobian = true, curl = true, circulation = true, path = true, helmholtz = true,
  weighted = true, error = true }
local BATTERY_OPTS = { points = true, t = true, tests = true, density = true, reference = true, radii = true,
  loops = true, nodes = true, path_nodes = true, pairs = true, paths = true, method = true, probes = true,
  coords = true, seed = true, level = true, bootstrap = true, quantiles = true, grid = true, degree = true,
  samples = true }

local function fail(fmt, ...)
  error("check.conservativity: " .. string.format(fmt, ...), 3)
end

local function is_gmm(x)
  local m = getmetatable(x)
  return type(m) == "table" and m.__name == "fieldlab.GMM"
end

-- Samples of the density at time t (nil when the density is a Field: then the grid route).
local function density_samples(density, t, n, seed)
  if array.is_array(density) then return density end
  if is_gmm(density) then return density:sample(n, { seed = seed, stream = 7 }) end
  if type(density) == "function" then return density(t) end
  if type(density) == "table" and type(density.at) == "function" then
    return density.at(t):sample(n, { seed = seed, stream = 7 })
  end
  return nil
end

local function valid_density(density)
  return array.is_array(density) or is_gmm(density) or type(density) == "function"
    or (type(density) == "table" and type(density.at) == "function") or field.is_field(density)
end

-- The rows of a report: one per (time, test, metric); generic so that other
-- kinds of results (lattice matrix fields) fit the same table.
local function row(t, test, metric, s, extra)
  local r = { t = t, test = test, metric = metric }
  if s then
    r.n, r.nan, r.mean, r.se, r.ci_lo, r.ci_hi, r.median = s.n, s.nan, s.mean, s.se, s.ci_lo, s.ci_hi, s.median
    if s.q and #s.q >= 1 then r.q_lo, r.q_hi = s.quantiles[1], s.quantiles[#s.quantiles] end
  end
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function fmt(x)
  if x == nil then return "-" end
  if x ~= x then return "nan" end
  return string.format("%.3g", x)
end

local function nan_note(notes, what, t, s, n)
  if s.nan > 0 then
    notes[#notes + 1] = string.format("%s at t = %s: %d of %d values were NaN or Inf (the field returned non-finite values) and are excluded from the statistics",
      what, fmt(t), s.nan, n)
  end
end

function check.conservativity(f, opts)
  if not field.is_field(f) then
    error(string.format("bad argument #1 to 'conservativity' (fieldlab.Field expected, got %s)", type(f)), 2)
  end
  need_opts(opts, "conservativity")
  for k in pairs(opts) do
    if not BATTERY_OPTS[k] then
      local names = {}
      for n in pairs(BATTERY_OPTS) do names[#names + 1] = n end
      table.sort(names)
      error(string.format("bad argument #2 to 'conservativity' (unknown option '%s' (valid: %s))", tostring(k),
        table.concat(names, ", ")), 2)
    end
  end
  if f.codim ~= f.dim then fail("needs a vector field (R^d -> R^d), not R^%d -> R^%d", f.dim, f.codim) end
  local d = f.dim
  if opts.points == nil then fail("option 'points' is required") end
  local pts = opts.points
  if not array.is_array(pts) then pts = array.from(pts) end
  if pts.ndim ~= 2 or pts.shape[2] ~= d then
    fail("points have dimension %s, the field takes %d (an n-by-%d array)", tostring(pts.shape[pts.ndim]), d, d)
  end
  local n = pts.shape[1]
  if n < 1 then fail("no points") end
  local times = opts.t
  if times == nil then times = { 0 } elseif type(times) == "number" then times = { times } end
  if type(times) ~= "table" or #times < 1 then fail("option 't' must be a number or a list of numbers") end
  for _, t in ipairs(times) do if type(t) ~= "number" then fail("option 't' must be a number or a list of numbers") end end
  local seed = opts.seed or 0
  local so = stat_opts(opts)
  local density, reference = opts.density, opts.reference
  if density ~= nil and not valid_density(density) then
    fail("option 'density' must be samples (an n-by-d Array), a GMM, a noised mixture (Schedule:noised), a function of t returning samples, or a scalar Field")
  end
  if reference ~= nil and not field.is_field(reference) then fail("option 'reference' must be a Field (the true field)") end
  if reference ~= nil and (reference.dim ~= d or reference.codim ~= d) then
    fail("the reference field maps R^%d -> R^%d, the field R^%d -> R^%d", reference.dim, reference.codim, d, d)
  end
  if field.is_field(density) and density.codim ~= 1 then fail("a density Field must be scalar (codim 1), not codim %d", density.codim) end
  -- tests
  local tests = opts.tests
  if tests == nil then
    tests = { "jacobian" }
    if d >= 2 then tests[#tests + 1] = "circulation"; tests[#tests + 1] = "path" end
    if f.kind == "grid" or opts.grid then tests[#tests + 1] = "helmholtz" end
    if density ~= nil then tests[#tests + 1] = "weighted" end
    if density ~= nil and reference ~= nil then tests[#tests + 1] = "error" end
  end
  local want = {}
  for _, name in ipairs(tests) do
    if not ALL_TESTS[name] then
      fail("unknown test '%s' (valid: jacobian, curl, circulation, path, helmholtz, weighted, error)", tostring(name))
    end
    want[name] = true
  end
  if want.curl and d ~= 2 and d ~= 3 then fail("curl requested for a %d-D field: curl is defined in 2-D and 3-D only (NAsym of 'jacobian' works in any dimension)", d) end
  if (want.circulation or want.path) and d < 2 then fail("loops and paths need dimension 2 or more") end
  if (want.weighted or want.error) and density == nil then fail("tests 'weighted' and 'error' need the option 'density'") end
  if want.error and reference == nil then fail("test 'error' needs the option 'reference' (the true field)") end
  -- a density Field must be positive where it is used
  if field.is_field(density) then
    for _, t in ipairs(times) do
      local p = density(pts, t):reshape(n)
      local bad = 0
      for i = 1, n do
        local v = p[i]
        if not (v > 0) then bad = bad + 1 end
      end
      if bad > 0 then fail("the density has non-positive (or NaN) values at %d of %d points (t = %s): it must be positive", bad, n, fmt(t)) end
    end
  end
  -- scale of the points: default loop radius and pair choice
  local radii = opts.radii
  if radii == nil then
    local s = 0
    if n >= 2 then
      local sd = pts:std(1)
      for j = 1, d do s = s + sd[j] ^ 2 end
      s = math.sqrt(s / d)
    end
    if not (s > 0) then s = 1 end
    radii = 0.1 * s
  end
  local pairs_ = opts.pairs
  if pairs_ == nil and n >= 2 then
    local k = math.min(n // 2, 500)
    pairs_ = { a = pts:slice{ { 1, k } }, b = pts:slice{ { k + 1, 2 * k } } }
  end
  if want.path and pairs_ == nil then fail("path independence needs at least 2 points (or the option 'pairs')") end
  local loops = opts.loops or (d == 2 and 1 or 4)

  local rows, notes, results = {}, {}, {}
  local decisions = {} -- {t, test, nonconservative = bool|nil}
  local function decide(t, test, verdict) decisions[#decisions + 1] = { t = t, test = test, v = verdict } end

  for _, t in ipairs(times) do
    local res = { t = t }
    results[#results + 1] = res
    if want.jacobian then
      local r = check.jacobian(f, { points = pts, t = t, method = opts.method, probes = opts.probes, coords = opts.coords,
        seed = seed, quantiles = opts.quantiles, bootstrap = opts.bootstrap, level = opts.level })
      res.jacobian = r
      local how = r.method == "probes" and "probes" or (r.exact and "exact" or "differences")
      rows[#rows + 1] = row(t, "jacobian", "NAsym", r.summary, { floor = r.floor, exact = r.exact, how = how })
      rows[#rows + 1] = row(t, "jacobian", "Asym", r.asym_summary, { exact = r.exact, how = how })
      nan_note(notes, "jacobian", t, r.summary, n)
      local s = r.summary
      local lo = s.ci_lo == s.ci_lo and s.ci_lo or s.mean
      local hi = s.ci_hi == s.ci_hi and s.ci_hi or s.mean
      if s.n == 0 then decide(t, "jacobian", nil)
      elseif lo > r.floor then decide(t, "jacobian", true)
      elseif hi <= r.floor then decide(t, "jacobian", false)
      else decide(t, "jacobian", nil) end
    end
    if want.curl then
      local r = check.curl(f, { points = pts, t = t, quantiles = opts.quantiles, bootstrap = opts.bootstrap, level = opts.level })
      res.curl = r
      rows[#rows + 1] = row(t, "curl", "|curl|", r.summary, { exact = r.exact })
      nan_note(notes, "curl", t, r.summary, n)
    end
    local function integral(name, r, metric)
      local fs = r.floor_summary
      rows[#rows + 1] = row(t, name, metric, r.summary, { floor = fs.quantiles[1], above = r.above, of = r.finite })
      nan_note(notes, name, t, r.summary, r.n)
      local s = r.summary
      local lo = s.ci_lo == s.ci_lo and s.ci_lo or s.mean
      if s.n == 0 then decide(t, name, nil)
      elseif r.above == 0 then decide(t, name, false)
      elseif lo > ABOVE * fs.quantiles[1] then decide(t, name, true)
      else decide(t, name, nil) end
    end
    if want.circulation then
      local r = check.circulation(f, { centers = pts, radii = radii, loops = loops, nodes = opts.nodes or 64, seed = seed,
        t = t, quantiles = opts.quantiles, bootstrap = opts.bootstrap, level = opts.level })
      res.circulation = r
      integral("circulation", r, "|G|/(perimeter |v|)")
      rows[#rows + 1] = row(t, "circulation", "G/area", r.per_area_summary, {})
      rows[#rows + 1] = row(t, "circulation", "w.(J-J^T)u", r.small_loop_summary, { exact = r.exact })
    end
    if want.path then
      local r = check.path_independence(f, { pairs = pairs_, paths = opts.paths, nodes = opts.path_nodes or 64,
        seed = seed, t = t, quantiles = opts.quantiles, bootstrap = opts.bootstrap, level = opts.level })
      res.path = r
      integral("path", r, "|dI|/(length |v|)")
    end
    if want.helmholtz then
      local g = f
      if opts.grid then g = field.sample(f, opts.grid, { t = t })
      elseif f.kind ~= "grid" then fail("test 'helmholtz' needs a grid field or the option 'grid' ({n =, box =, periodic =})") end
      local h = core.decomp.helmholtz(g)
      local e = h:energies()
      res.helmholtz = e
      rows[#rows + 1] = row(t, "helmholtz", "gradient fraction", nil, { mean = e.gradient })
      rows[#rows + 1] = row(t, "helmholtz", "solenoidal fraction", nil, { mean = e.solenoidal })
      rows[#rows + 1] = row(t, "helmholtz", "harmonic fraction", nil, { mean = e.harmonic })
    end
    local samples
    if want.weighted or want.error then
      samples = density_samples(density, t, opts.samples or 20000, seed)
      if samples == nil and not opts.grid and f.kind ~= "grid" then
        fail("a density given as a Field needs a grid field or the option 'grid' for the weighted split")
      end
    end
    local function weighted(v, name, labels, floor)
      local w
      if samples then
        w = core.decomp.weighted(v, samples, { t = t, degree = opts.degree or 3 })
      else
        local g = v
        if opts.grid then g = field.sample(v, opts.grid, { t = t }) end
        w = core.decomp.weighted(g, density, { t = t })
      end
      local e = w:energies()
      rows[#rows + 1] = row(t, name, labels[1], nil, { mean = e.total, se = e.total_se })
      rows[#rows + 1] = row(t, name, labels[2], nil, { mean = e.gradient, se = e.gradient_se })
      rows[#rows + 1] = row(t, name, labels[3], nil, { mean = e.gauge, se = e.gauge_se })
      rows[#rows + 1] = row(t, name, "gauge fraction", nil, { mean = e.gauge_fraction, floor = floor })
      return w, e
    end
    if want.weighted then
      -- the floor: the gauge fraction the same split finds for the reference
      -- field (a gradient field when it is a true score): basis truncation
      local floor
      if reference ~= nil then
        local wr = samples and core.decomp.weighted(reference, samples, { t = t, degree = opts.degree or 3 })
          or core.decomp.weighted(opts.grid and field.sample(reference, opts.grid, { t = t }) or reference, density, { t = t })
        floor = wr:energies().gauge_fraction
      end
      local w, e = weighted(f, "weighted", { "E_p|v|^2", "E_p|grad phi|^2", "E_p|r|^2 (gauge)" }, floor)
      res.weighted = { decomposition = w, energies = e }
    end
    if want.error then
      local err = f - reference
      local w, e = weighted(err, "error", { "E_p|v-ref|^2", "moves density", "gauge (moves none)" })
      res.error = { decomposition = w, energies = e }
    end
  end

  -- the verdict: what was measured, at what confidence, never more
  local level = opts.level or 0.95
  local parts = {}
  local tl = {}
  for i, t in ipairs(times) do tl[i] = fmt(t) end
  parts[#parts + 1] = string.format("Measured on %d points at t = %s.", n, table.concat(tl, ", "))
  local non, cons, undecided = {}, 0, 0
  for _, dd in ipairs(decisions) do
    if dd.v == true then non[#non + 1] = dd elseif dd.v == false then cons = cons + 1 else undecided = undecided + 1 end
  end
  for _, r in ipairs(rows) do
    if r.test == "jacobian" and r.metric == "NAsym" then
      parts[#parts + 1] = string.format("t = %s: mean NAsym %s (%g%% bootstrap CI %s to %s; %s Jacobians; resolution floor %s).",
        fmt(r.t), fmt(r.mean), 100 * level, fmt(r.ci_lo), fmt(r.ci_hi), r.how, fmt(r.floor))
    elseif (r.test == "circulation" or r.test == "path") and r.above then
      parts[#parts + 1] = string.format("t = %s: %s %s (%g%% CI %s to %s), above %dx its quadrature floor (median %s) on %d of %d %s.",
        fmt(r.t), r.test == "circulation" and "mean relative circulation" or "mean relative path difference",
        fmt(r.mean), 100 * level, fmt(r.ci_lo), fmt(r.ci_hi), ABOVE, fmt(r.floor), r.above, r.of,
        r.test == "circulation" and "loops" or "path pairs")
    elseif r.metric == "gauge fraction" then
      parts[#parts + 1] = string.format("t = %s: the density-weighted split puts %.3g%% of %s in the part that moves no density%s.",
        fmt(r.t), 100 * r.mean, r.test == "error" and "the squared error E_p|v - ref|^2" or "E_p|v|^2",
        r.floor and string.format(" (%.3g%% for the reference field: the basis floor)", 100 * r.floor) or "")
    end
  end
  local conservative
  if #non > 0 then
    local what = {}
    for _, dd in ipairs(non) do what[#what + 1] = dd.test .. " at t = " .. fmt(dd.t) end
    parts[#parts + 1] = string.format("Not conservative at %g%% confidence: the asymmetry or loop integrals exceed their floors (%s).",
      100 * level, table.concat(what, "; "))
    conservative = false
  elseif cons > 0 and undecided == 0 then
    parts[#parts + 1] = "No measured quantity exceeds its floor: consistent with a gradient field at these points, times and radii; non-conservativity below the floors is not excluded."
    conservative = true
  else
    parts[#parts + 1] = "Inconclusive: some measurements lie between their floors and a significant excess."
  end
  if #notes > 0 then parts[#parts + 1] = string.format("%d note(s): non-finite values were excluded (see report.notes).", #notes) end

  local report = {
    field = tostring(f), npoints = n, times = times, tests = tests, rows = rows, results = results, notes = notes,
    verdict = table.concat(parts, " "), conservative = conservative, level = level,
  }
  return setmetatable(report, mt)
end

---------------------------------------------------------------- the report

local function isreport(self, name)
  if getmetatable(self) ~= mt then
    error(string.format("bad argument #1 to '%s' (CheckReport expected, got %s)", name, type(self)), 3)
  end
end

mt.__tostring = function(self)
  local out = {}
  local tl = {}
  for i, t in ipairs(self.times) do tl[i] = fmt(t) end
  out[#out + 1] = string.format("Conservativity report: %s, %d points, t = %s", self.field, self.npoints, table.concat(tl, ", "))
  local hdr = string.format("  %-8s %-12s %-22s %-10s %-23s %-10s %-10s %-9s %s", "t", "test", "metric", "mean",
    string.format("%g%% CI", 100 * (self.level or 0.95)), "median", "floor", "above", "n (NaN)")
  out[#out + 1] = hdr
  for _, r in ipairs(self.rows) do
    local ci = (r.ci_lo and r.ci_lo == r.ci_lo) and string.format("[%s, %s]", fmt(r.ci_lo), fmt(r.ci_hi))
      or (r.se and string.format("+- %s (se)", fmt(r.se)) or "-")
    local above = r.above and string.format("%d/%d", r.above, r.of) or "-"
    local nn = r.n and string.format("%d (%d)", r.n, r.nan) or "-"
    local metric = r.metric .. (r.how and r.metric == "NAsym" and (" [" .. r.how .. "]") or "")
    out[#out + 1] = string.format("  %-8s %-12s %-22s %-10s %-23s %-10s %-10s %-9s %s", r.t and fmt(r.t) or "-", r.test,
      metric, fmt(r.mean), ci, fmt(r.median), fmt(r.floor), above, nn)
  end
  out[#out + 1] = "verdict: " .. self.verdict
  for _, note in ipairs(self.notes) do out[#out + 1] = "note: " .. note end
  return table.concat(out, "\n")
end

-- JSON ------------------------------------------------------------------

local json = require "fieldlab.json"
local NULL = json.null

function methods.json(self)
  isreport(self, "json")
  local notes = {}
  for i, s in ipairs(self.notes) do notes[i] = s end
  local doc = { format = "fieldlab.check/1", field = self.field, npoints = self.npoints, times = self.times,
    tests = self.tests, level = self.level, rows = self.rows, verdict = self.verdict,
    conservative = self.conservative == nil and NULL or self.conservative, notes = notes }
  local body, nonfinite = json.encode(doc)
  if nonfinite then
    notes[#notes + 1] = "NaN and Inf values are written as null"
    body = json.encode(doc)
  end
  return body
end

function methods.save(self, path)
  isreport(self, "save")
  if type(path) ~= "string" then error("bad argument #1 to 'save' (file name expected)", 2) end
  local fh, err = io.open(path, "w")
  if not fh then error("CheckReport:save: cannot open '" .. path .. "': " .. tostring(err), 2) end
  fh:write(methods.json(self), "\n")
  fh:close()
  return path
end

-- plot ------------------------------------------------------------------

-- The headline metrics, one panel each, plotted against t: the mean with
-- the ends of its interval and the floor, on a log scale (values <= 0 are
-- left out by plot.line, so an exact zero shows as no point).
local PANELS = {
  { test = "jacobian", metric = "NAsym", title = "Jacobian asymmetry", ylabel = "NAsym" },
  { test = "curl", metric = "|curl|", title = "curl", ylabel = "|curl|" },
  { test = "circulation", metric = "|G|/(perimeter |v|)", title = "loop integrals", ylabel = "|circulation| / (perimeter |v|)" },
  { test = "path", metric = "|dI|/(length |v|)", title = "path independence", ylabel = "|dI| / (length |v|)" },
  { test = "helmholtz", metric = "solenoidal fraction", title = "Helmholtz: solenoidal energy", ylabel = "fraction" },
  { test = "weighted", metric = "gauge fraction", title = "share of E_p|v|^2 moving no density", ylabel = "fraction" },
  { test = "error", metric = "gauge fraction", title = "error: share moving no density", ylabel = "fraction" },
}

function methods.plot(self, file, opts)
  isreport(self, "plot")
  if type(file) ~= "string" then error("bad argument #1 to 'plot' (file name expected)", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #2 to 'plot' (table of options expected)", 2) end
  for k in pairs(opts) do
    if k ~= "width" and k ~= "height" and k ~= "title" then
      error(string.format("CheckReport:plot: unknown option '%s' (width, height, title)", tostring(k)), 2)
    end
  end
  local plot = core.plot
  if not plot or not plot.figure then error("CheckReport:plot: module plot is not in this build", 2) end
  local panels = {}
  for _, p in ipairs(PANELS) do
    local xs, mean, lo, hi, floor = {}, {}, {}, {}, {}
    for _, r in ipairs(self.rows) do
      if r.test == p.test and r.metric == p.metric and r.t and r.mean == r.mean then
        xs[#xs + 1] = r.t
        mean[#mean + 1] = r.mean
        lo[#lo + 1] = r.ci_lo or (r.se and r.mean - 1.96 * r.se) or r.mean
        hi[#hi + 1] = r.ci_hi or (r.se and r.mean + 1.96 * r.se) or r.mean
        floor[#floor + 1] = r.floor or 0
      end
    end
    if #xs > 0 then panels[#panels + 1] = { p = p, x = xs, mean = mean, lo = lo, hi = hi, floor = floor } end
  end
  if #panels == 0 then error("CheckReport:plot: the report has no metric to plot", 2) end
  local cols = #panels == 1 and 1 or 2
  local rows = (#panels + cols - 1) // cols
  local fig = plot.figure{ rows = rows, cols = cols, file = file,
    width = opts.width or 520 * cols, height = opts.height or 400 * rows }
  local level = string.format("%g%% CI", 100 * (self.level or 0.95))
  for i, q in ipairs(panels) do
    local series = {
      { x = q.x, y = q.mean, label = "mean", color = 1, size = 2 },
      { x = q.x, y = q.lo, label = level, color = 1, size = 0.5 },
      { x = q.x, y = q.hi, color = 1, size = 0.5 },
    }
    -- the floor is drawn where it tells something: when it comes within
    -- six decades of the smallest positive mean, or when no mean is positive
    local fmax, mmin = 0, math.huge
    for _, v in ipairs(q.floor) do fmax = math.max(fmax, v) end
    for _, v in ipairs(q.mean) do if v > 0 then mmin = math.min(mmin, v) end end
    local anyfloor = fmax > 0 and (mmin == math.huge or fmax >= 1e-6 * mmin)
    if anyfloor then series[#series + 1] = { x = q.x, y = q.floor, label = "floor", color = 4, size = 1 } end
    local logy = q.p.ylabel ~= "fraction"
    if logy then
      local pos = false
      for _, s in ipairs(series) do for _, v in ipairs(s.y) do if v > 0 then pos = true end end end
      logy = pos
    end
    fig:line(series, { panel = i, logy = logy, xlabel = "t", ylabel = q.p.ylabel,
      title = (i == 1 and opts.title) and (opts.title .. ": " .. q.p.title) or q.p.title })
  end
  return fig:save()
end

return check
