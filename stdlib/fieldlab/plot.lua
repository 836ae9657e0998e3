-- Lua side of module plot (documented in man/api/plot.txt): figure
-- objects, option defaults, and the sampling of fields onto grids and
-- streamlines. Rendering and histogram binning are C (src/l_plot.c on
-- lib/fl_plot.c, PLplot's cairo devices).
local core = require "fieldlab.core"
local plot = core.plot
local array = core.array
local field = core.field
local integrate = core.integrate

local function fail(fname, fmt, ...)
  error(fname .. ": " .. string.format(fmt, ...), 0)
end

local function sorted(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return t
end

local function set(...)
  local s = {}
  for _, list in ipairs{...} do for _, k in ipairs(list) do s[k] = true end end
  return s
end

-- opts must be nil or a table whose keys are all in allowed.
local function checkopts(fname, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(fname, "options must be a table, not a %s", type(opts)) end
  for k in pairs(opts) do
    if not allowed[k] then
      fail(fname, "unknown option '%s' (valid: %s)", tostring(k), table.concat(sorted(allowed), ", "))
    end
  end
  return opts
end

local PANEL = { "title", "xlabel", "ylabel", "xlim", "ylim", "logx", "logy", "equal" }
local LAYER = { "label", "color", "size" }
local FIGURE = { "file", "width", "height" }

local function is_field(x) return field.is_field(x) end

local function toarray(fname, x, what)
  if array.is_array(x) then return x end
  if type(x) == "table" then
    local ok, a = pcall(array.from, x)
    if ok then return a end
    fail(fname, "%s: %s", what, tostring(a))
  end
  fail(fname, "%s must be an Array or a table of numbers, not a %s", what, type(x))
end

-- An n-by-2 array of points -> x, y columns.
local function points2(fname, xs, what)
  local a = toarray(fname, xs, what)
  if #a.shape ~= 2 or a.shape[2] ~= 2 then
    fail(fname, "%s must be an n-by-2 array of points, not of shape (%s)", what, table.concat(a.shape, ","))
  end
  if a.shape[1] == 0 then fail(fname, "%s: no points", what) end
  return a:col(1), a:col(2), a
end

local function num_opt(fname, opts, k, def, lo)
  local v = opts[k]
  if v == nil then return def end
  if type(v) ~= "number" or v ~= v or (lo and v < lo) then
    fail(fname, "option '%s' must be a number%s, not %s", k, lo and (" >= " .. lo) or "", tostring(v))
  end
  return v
end

local function int_opt(fname, opts, k, def, lo, hi)
  local v = opts[k]
  if v == nil then return def end
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < lo or v > hi then
    fail(fname, "option '%s' must be an integer %d to %d, not %s", k, lo, hi, tostring(v))
  end
  return math.tointeger(v)
end

local function pair_opt(fname, opts, k)
  local v = opts[k]
  if v == nil then return nil end
  if type(v) ~= "table" or type(v[1]) ~= "number" or type(v[2]) ~= "number" or not (v[1] < v[2]) then
    fail(fname, "option '%s' must be a pair {lo, hi} with lo < hi", k)
  end
  return { v[1], v[2] }
end

local function str_opt(fname, opts, k)
  local v = opts[k]
  if v ~= nil and type(v) ~= "string" then fail(fname, "option '%s' must be a string, not a %s", k, type(v)) end
  return v
end

-- A 2-D box {{x0, x1}, {y0, y1}}.
local function box_opt(fname, opts, k, def)
  local b = opts[k]
  if b == nil then return def end
  if type(b) ~= "table" or #b ~= 2 then fail(fname, "option '%s' must be {{x0, x1}, {y0, y1}}", k) end
  for i = 1, 2 do
    local p = b[i]
    if type(p) ~= "table" or type(p[1]) ~= "number" or type(p[2]) ~= "number" or not (p[1] < p[2]) then
      fail(fname, "option '%s' must be {{x0, x1}, {y0, y1}} with x0 < x1 and y0 < y1", k)
    end
  end
  return b
end

---------------------------------------------------------------- figures

local Figure = {}
local Figure_mt = {
  __name = "fieldlab.Figure",
  __methods = Figure,
  __properties = { "rows", "cols", "file" },
  __index = Figure,
}
Figure_mt.__tostring = function(fig)
  local used = 0
  for k = 1, fig.rows * fig.cols do if #fig._panels[k].layers > 0 then used = used + 1 end end
  return string.format("Figure %dx%d panels (%d drawn), %dx%d pixels, file %s", fig.rows, fig.cols, used,
    fig._width, fig._height, fig.file or "(none)")
end
core.classes = core.classes or {}
core.classes["fieldlab.Figure"] = Figure_mt

-- Call a C function; its error is re-raised without a position (the
-- message already names the user-facing function).
local function ccall(f, ...)
  local res = table.pack(pcall(f, ...))
  if not res[1] then error((tostring(res[2]):gsub("^[^\n]-:%d+: ", "")), 0) end
  return table.unpack(res, 2, res.n)
end

local function check_file(fname, file)
  if type(file) ~= "string" then fail(fname, "option 'file' must be a file name ending in .png, .svg or .pdf") end
  local _, ok = ccall(plot._device, file, fname)
  if not ok then fail(fname, "PLplot has no device for '%s' here (install plplot-driver-cairo)", file) end
  return file
end

local function new_figure(fname, rows, cols, file, width, height)
  local fig = setmetatable({ rows = rows, cols = cols, file = file, _panels = {} }, Figure_mt)
  fig._width = width or math.max(640, 480 * cols)
  fig._height = height or math.max(480, 400 * rows)
  for k = 1, rows * cols do fig._panels[k] = { layers = {} } end
  return fig
end

function plot.figure(opts)
  local fname = "plot.figure"
  opts = checkopts(fname, opts, set({ "rows", "cols" }, FIGURE))
  local rows = int_opt(fname, opts, "rows", 1, 1, 16)
  local cols = int_opt(fname, opts, "cols", 1, 1, 16)
  local file = opts.file and check_file(fname, opts.file)
  return new_figure(fname, rows, cols, file, int_opt(fname, opts, "width", nil, 100, 8000),
    int_opt(fname, opts, "height", nil, 100, 8000))
end

-- The panel of a method call (option 'panel', default 1), with the panel options applied.
local function panel_of(fig, fname, opts)
  local k = int_opt(fname, opts, "panel", 1, 1, fig.rows * fig.cols)
  local p = fig._panels[k]
  for _, key in ipairs(PANEL) do
    if opts[key] ~= nil then
      if key == "xlim" or key == "ylim" then p[key] = pair_opt(fname, opts, key)
      elseif key == "logx" or key == "logy" or key == "equal" then p[key] = not not opts[key]
      else p[key] = str_opt(fname, opts, key) end
    end
  end
  return p
end

local function layer(fname, opts, t)
  t.label = str_opt(fname, opts, "label")
  t.color = int_opt(fname, opts, "color", nil, 1, 10)
  t.size = num_opt(fname, opts, "size", nil, 0)
  return t
end

local function save(self, file, fname)
  file = file or self.file
  if not file then fail(fname, "no file: give one here or as option 'file' of plot.figure") end
  check_file(fname, file)
  return ccall(plot._render, { rows = self.rows, cols = self.cols, width = self._width, height = self._height,
    panels = self._panels }, file, fname)
end

function Figure:save(file)
  if getmetatable(self) ~= Figure_mt then fail("Figure:save", "call it as fig:save([file])") end
  if file ~= nil and type(file) ~= "string" then fail("Figure:save", "the file must be a string, not a %s", type(file)) end
  return save(self, file, "Figure:save")
end

-- Every plot type is a method `Figure:<name>(data, opts)` and a function
-- `plot.<name>(data, opts)` that draws one panel and saves it to opts.file.
local kinds = {}

local function define(name, extra, draw)
  local allowed_m = set(PANEL, LAYER, extra, { "panel" })
  local allowed_f = set(PANEL, LAYER, extra, FIGURE)
  -- line(x, y, opts): the two-array form of one series
  local function xy(data, opts, more)
    if name == "line" and (array.is_array(opts) or (type(opts) == "table" and type(opts[1]) == "number")) then
      return { x = data, y = opts }, more
    end
    return data, opts
  end
  Figure[name] = function(self, data, opts, more)
    local fname = "Figure:" .. name
    if getmetatable(self) ~= Figure_mt then fail(fname, "call it as fig:%s(...)", name) end
    data, opts = xy(data, opts, more)
    opts = checkopts(fname, opts, allowed_m)
    draw(fname, panel_of(self, fname, opts), data, opts)
    return self
  end
  plot[name] = function(data, opts, more)
    local fname = "plot." .. name
    data, opts = xy(data, opts, more)
    opts = checkopts(fname, opts, allowed_f)
    if opts.file == nil then fail(fname, "option 'file' is required (a .png, .svg or .pdf name)") end
    check_file(fname, opts.file)
    local fig = new_figure(fname, 1, 1, opts.file, int_opt(fname, opts, "width", nil, 100, 8000),
      int_opt(fname, opts, "height", nil, 100, 8000))
    draw(fname, panel_of(fig, fname, opts), data, opts)
    return save(fig, nil, fname)
  end
  kinds[#kinds + 1] = name
end

local function add(p, l) p.layers[#p.layers + 1] = l end

define("scatter", {}, function(fname, p, xs, opts)
  local x, y = points2(fname, xs, "the points")
  p.xlabel = p.xlabel or "x1"
  p.ylabel = p.ylabel or "x2"
  local l = layer(fname, opts, { kind = "points", x = x, y = y })
  local n = x.size
  l.size = l.size or (n > 5000 and 0.35 or n > 1000 and 0.5 or n > 200 and 0.7 or 1)
  add(p, l)
end)

-- series: y values (Array or list of numbers), {x =, y =, label =}, or a list of those.
define("line", {}, function(fname, p, series, opts)
  local list
  if array.is_array(series) or (type(series) == "table" and (type(series[1]) == "number" or series.y)) then
    list = { series }
  elseif type(series) == "table" and #series > 0 then
    list = series
  else
    fail(fname, "series must be values, {x = , y = , label = } or a list of those")
  end
  for i, s in ipairs(list) do
    local x, y, label, color, width
    if type(s) == "table" and not array.is_array(s) and s.y ~= nil then
      for k in pairs(s) do
        if k ~= "x" and k ~= "y" and k ~= "label" and k ~= "color" and k ~= "size" then
          fail(fname, "series %d: unknown field '%s' (valid: color, label, size, x, y)", i, tostring(k))
        end
      end
      y = toarray(fname, s.y, "series " .. i .. " y")
      x = s.x and toarray(fname, s.x, "series " .. i .. " x")
      label, color, width = s.label, s.color, s.size
    else
      y = toarray(fname, s, "series " .. i)
    end
    if #y.shape ~= 1 then fail(fname, "series %d: y must be 1-D, not of shape (%s)", i, table.concat(y.shape, ",")) end
    local n = y.shape[1]
    if n == 0 then fail(fname, "series %d is empty", i) end
    x = x or array.linspace(1, n, n)
    if x.size ~= n then fail(fname, "series %d: x has %d values and y %d", i, x.size, n) end
    local l = layer(fname, opts, { kind = "line", x = x, y = y })
    if #list > 1 then l.label, l.color = nil, nil end
    l.label = label or l.label
    if color ~= nil then l.color = int_opt(fname, { color = color }, "color", nil, 1, 10) end
    if width ~= nil then l.size = num_opt(fname, { size = width }, "size", nil, 0) end
    add(p, l)
  end
end)

local function data_range(a)
  local lo, hi = a:min(), a:max()
  if lo == hi then lo, hi = lo - 0.5, hi + 0.5 end
  return lo, hi
end

define("hist", { "bins", "range", "density" }, function(fname, p, xs, opts)
  local x = toarray(fname, xs, "the values")
  if x.size == 0 then fail(fname, "no values") end
  local bins = int_opt(fname, opts, "bins", 40, 1, 100000)
  local r = pair_opt(fname, opts, "range")
  local lo, hi
  if r then lo, hi = r[1], r[2] else lo, hi = data_range(x) end
  local counts, used = ccall(plot._histogram, x, bins, lo, hi)
  local y = counts
  if opts.density then y = counts * (bins / ((hi - lo) * math.max(used, 1))) end
  p.xlabel = p.xlabel or "x"
  p.ylabel = p.ylabel or (opts.density and "density" or "count")
  add(p, layer(fname, opts, { kind = "bars", x = array.linspace(lo, hi, bins + 1), y = y }))
end)

local function image_layer(fname, opts, z, extent, default_label)
  local l = layer(fname, opts, { kind = "image", z = z, extent = extent })
  l.label = l.label or default_label
  l.zrange = pair_opt(fname, opts, "zrange")
  return l
end

define("hist2d", { "bins", "range", "density", "log", "zrange" }, function(fname, p, xs, opts)
  local x, y, a = points2(fname, xs, "the points")
  local b = opts.bins or 50
  local nx, ny
  if type(b) == "table" then
    nx = int_opt(fname, { bins = b[1] }, "bins", nil, 1, 100000)
    ny = int_opt(fname, { bins = b[2] }, "bins", nil, 1, 100000)
  else
    nx = int_opt(fname, opts, "bins", 50, 1, 100000)
    ny = nx
  end
  if not nx or not ny then fail(fname, "option 'bins' must be an integer or {nx, ny}") end
  local r = box_opt(fname, opts, "range", nil)
  local x0, x1, y0, y1
  if r then x0, x1, y0, y1 = r[1][1], r[1][2], r[2][1], r[2][2]
  else x0, x1 = data_range(x); y0, y1 = data_range(y) end
  local counts, used = ccall(plot._histogram2d, a, nx, ny, { x0, x1, y0, y1 })
  local z, label = counts, "count"
  if opts.density then
    z = counts * (nx * ny / ((x1 - x0) * (y1 - y0) * math.max(used, 1)))
    label = "density"
  end
  if opts.log then
    -- log10 of the positive bins; empty bins get the smallest positive value
    local floor = math.huge
    local zt = z:totable()
    for j = 1, #zt do for i = 1, #zt[j] do
      local v = zt[j][i]
      if v > 0 and v < floor then floor = v end
    end end
    if floor == math.huge then floor = 1 end
    for j = 1, #zt do for i = 1, #zt[j] do zt[j][i] = math.log(math.max(zt[j][i], floor), 10) end end
    z = array.from(zt)
    label = "log10 " .. label
  end
  p.xlabel = p.xlabel or "x1"
  p.ylabel = p.ylabel or "x2"
  add(p, image_layer(fname, opts, z, { x0, x1, y0, y1 }, label))
end)

-- Grid points of a box: n x n nodes (x varies slowest, as in a grid field).
local function grid_points(box, n)
  local xs = array.linspace(box[1][1], box[1][2], n)
  local ys = array.linspace(box[2][1], box[2][2], n)
  local X, Y = array.meshgrid(xs, ys)
  return array.stack({ X:reshape(n * n), Y:reshape(n * n) }, 2)
end

local function grid_box(f)
  local b = f.box
  if b and #b == 2 then return { { b[1][1], b[1][2] }, { b[2][1], b[2][2] } } end
  return nil
end

define("heatmap", { "box", "n", "t", "zrange" }, function(fname, p, g, opts)
  local z, extent
  local t = num_opt(fname, opts, "t", 0)
  if is_field(g) then
    if g.dim ~= 2 or g.codim ~= 1 then
      fail(fname, "the field must be scalar on R^2 (R^2 -> R), not R^%d -> R^%d: plot f:grid_div(), f:grid_curl() or a component",
        g.dim, g.codim)
    end
    if g.values and opts.box == nil and opts.n == nil then
      local v = g.values
      local n1, n2 = g.n[1], g.n[2]
      local e = {}
      for a = 1, 2 do
        local lo, hi, nn = g.box[a][1], g.box[a][2], g.n[a]
        local h = g.periodic[a] and (hi - lo) / nn or (hi - lo) / math.max(nn - 1, 1)
        e[2 * a - 1] = lo - h / 2
        e[2 * a] = (g.periodic[a] and hi or hi) - (g.periodic[a] and h / 2 or -h / 2)
      end
      z, extent = v:reshape{ n1, n2 }:t(), e
    else
      local box = box_opt(fname, opts, "box", grid_box(g) or { { -3, 3 }, { -3, 3 } })
      local n = int_opt(fname, opts, "n", 100, 2, 4000)
      local v = g:eval(grid_points(box, n), t)
      local hx, hy = (box[1][2] - box[1][1]) / (n - 1), (box[2][2] - box[2][1]) / (n - 1)
      z = v:reshape{ n, n }:t()
      extent = { box[1][1] - hx / 2, box[1][2] + hx / 2, box[2][1] - hy / 2, box[2][2] + hy / 2 }
    end
  else
    local a = toarray(fname, g, "the values")
    if #a.shape ~= 2 then fail(fname, "the values must be a 2-D array (x along rows), not of shape (%s)", table.concat(a.shape, ",")) end
    local box = box_opt(fname, opts, "box", nil)
    if not box then fail(fname, "an array of values needs option 'box' = {{x0, x1}, {y0, y1}} (the extent of the image)") end
    z, extent = a:t(), { box[1][1], box[1][2], box[2][1], box[2][2] }
  end
  p.xlabel = p.xlabel or "x1"
  p.ylabel = p.ylabel or "x2"
  add(p, image_layer(fname, opts, z, extent, nil))
end)

local function square2(fname, f)
  if f.dim ~= 2 or f.codim ~= 2 then
    fail(fname, "the field must map R^2 to R^2, not R^%d to R^%d", f.dim, f.codim)
  end
end

define("quiver", { "box", "n", "t", "points" }, function(fname, p, f, opts)
  local X, V
  if is_field(f) then
    square2(fname, f)
    if opts.points ~= nil then
      X = select(3, points2(fname, opts.points, "option 'points'"))
    else
      local box = box_opt(fname, opts, "box", grid_box(f) or { { -3, 3 }, { -3, 3 } })
      X = grid_points(box, int_opt(fname, opts, "n", 20, 1, 1000))
    end
    V = f:eval(X, num_opt(fname, opts, "t", 0))
  elseif type(f) == "table" and f[1] ~= nil and f[2] ~= nil then
    for _, k in ipairs{ "box", "n", "t", "points" } do
      if opts[k] ~= nil then fail(fname, "option '%s' is for fields, not for {points, vectors}", k) end
    end
    X = select(3, points2(fname, f[1], "the points"))
    V = select(3, points2(fname, f[2], "the vectors"))
    if V.shape[1] ~= X.shape[1] then fail(fname, "%d points but %d vectors", X.shape[1], V.shape[1]) end
  else
    fail(fname, "expected a Field or {points, vectors}, not a %s", type(f))
  end
  p.xlabel = p.xlabel or "x1"
  p.ylabel = p.ylabel or "x2"
  add(p, layer(fname, opts, { kind = "arrows", x = X:col(1), y = X:col(2), u = V:col(1), v = V:col(2) }))
end)

define("streamlines", { "box", "n", "seeds", "t0", "length", "steps" }, function(fname, p, f, opts)
  if not is_field(f) then fail(fname, "expected a Field, not a %s", type(f)) end
  square2(fname, f)
  local seeds
  if opts.seeds ~= nil then
    seeds = select(3, points2(fname, opts.seeds, "option 'seeds'"))
  else
    local box = box_opt(fname, opts, "box", grid_box(f) or { { -3, 3 }, { -3, 3 } })
    local n = int_opt(fname, opts, "n", 8, 1, 200)
    local hx, hy = (box[1][2] - box[1][1]) / n, (box[2][2] - box[2][1]) / n
    seeds = grid_points({ { box[1][1] + hx / 2, box[1][2] - hx / 2 }, { box[2][1] + hy / 2, box[2][2] - hy / 2 } }, n)
  end
  local steps = int_opt(fname, opts, "steps", 100, 1, 100000)
  local t0 = num_opt(fname, opts, "t0", 0)
  local length = num_opt(fname, opts, "length", 1)
  local r = integrate.ode{ field = f, x0 = seeds, t0 = t0, t1 = t0 + length, method = "rk4", steps = steps,
    record = 1 }
  local tr = r.trajectory -- (steps + 1, n, 2)
  if #tr.shape == 2 then tr = tr:reshape{ tr.shape[1], 1, 2 } end
  local nrec, n = tr.shape[1], tr.shape[2]
  local flat = tr:reshape{ nrec, n * 2 }
  local color = int_opt(fname, opts, "color", 1, 1, 10)
  for k = 1, n do
    local l = layer(fname, opts, { kind = "line", x = flat:col(2 * k - 1), y = flat:col(2 * k) })
    l.color, l.size = color, l.size or 1.2
    if k > 1 then l.label = nil end
    add(p, l)
  end
  add(p, { kind = "points", x = seeds:col(1), y = seeds:col(2), color = color, size = 0.5 })
  p.xlabel = p.xlabel or "x1"
  p.ylabel = p.ylabel or "x2"
end)

plot._kinds = kinds
return plot
