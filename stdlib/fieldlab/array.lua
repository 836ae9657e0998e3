-- Printing of fieldlab.Array values, numpy style:
--   array([[1., 2.],
--          [3., 4.]])
-- Large arrays show their first and last 3 entries along each axis, with "...",
-- and their shape.
local core = require "fieldlab.core"
local mt = core.classes["fieldlab.Array"]
local c_tostring = mt.__tostring

local EDGE = 3          -- entries kept at each end of an elided axis
local THRESHOLD = 1000  -- arrays with more elements are elided
local LINEWIDTH = 75

-- Indices shown along an axis of extent n: all, or 1..EDGE, false, n-EDGE+1..n.
local function shown(n, elide)
  local idx = {}
  if not elide or n <= 2 * EDGE then
    for i = 1, n do idx[#idx + 1] = i end
  else
    for i = 1, EDGE do idx[#idx + 1] = i end
    idx[#idx + 1] = false
    for i = n - EDGE + 1, n do idx[#idx + 1] = i end
  end
  return idx
end

-- Collect the values that will be printed, to choose one format for all.
local function gather(a, shape, elide)
  local vals, ndim = {}, #shape
  local function walk(depth, offset)
    local stride = 1
    for k = depth + 1, ndim do stride = stride * shape[k] end
    for _, i in ipairs(shown(shape[depth], elide)) do
      if i then
        if depth == ndim then
          offset[ndim] = i
          vals[#vals + 1] = a:get(table.unpack(offset, 1, ndim))
        else
          offset[depth] = i
          walk(depth + 1, offset)
        end
      end
    end
  end
  if #shape > 0 and shape[1] > 0 then walk(1, {}) end
  return vals
end

local function chooser(vals)
  local allint, maxabs, minabs = true, 0, math.huge
  local nonfinite = false
  for _, v in ipairs(vals) do
    if v ~= v or v == math.huge or v == -math.huge then
      nonfinite = true
    else
      local av = math.abs(v)
      if v ~= math.floor(v) then allint = false end
      if av > maxabs then maxabs = av end
      if av > 0 and av < minabs then minabs = av end
    end
  end
  local fmt
  if allint and maxabs < 1e16 then
    fmt = function(v) return string.format("%.0f.", v) end
  elseif maxabs >= 1e8 or (minabs < 1e-4) or (maxabs / minabs > 1e3 and minabs < 1e-2) then
    fmt = function(v) return string.format("%.8e", v) end
  else
    -- fixed point with as many decimals as the most precise value needs (<= 8)
    local prec = 1
    for _, v in ipairs(vals) do
      if v == v and v ~= math.huge and v ~= -math.huge then
        local frac = string.format("%.8f", v):match("%.(%d-)0*$")
        if #frac > prec then prec = #frac end
      end
    end
    local spec = "%." .. prec .. "f"
    fmt = function(v) return string.format(spec, v) end
  end
  return function(v)
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" end
    if v == -math.huge then return "-inf" end
    return fmt(v)
  end, nonfinite
end

local function format(a)
  local shape = a.shape
  local ndim = #shape
  local elide = a.size > THRESHOLD
  local vals = gather(a, shape, elide)
  local fmt = chooser(vals)
  local strs, width = {}, 0
  for i, v in ipairs(vals) do
    strs[i] = fmt(v)
    if #strs[i] > width then width = #strs[i] end
  end
  local pos = 0
  local prefix = "array("
  local function render(depth, indent)
    local parts = {}
    local idx = shown(shape[depth], elide)
    if depth == ndim then
      local line, lines = {}, {}
      local len = #indent + 1
      for _, i in ipairs(idx) do
        local s
        if i then pos = pos + 1; s = string.rep(" ", width - #strs[pos]) .. strs[pos]
        else s = string.rep(" ", width - 3) .. "..." end
        if #line > 0 and len + #s + 2 > LINEWIDTH then
          lines[#lines + 1] = table.concat(line, ", ")
          line, len = {}, #indent + 1
        end
        line[#line + 1] = s
        len = len + #s + 2
      end
      lines[#lines + 1] = table.concat(line, ", ")
      return "[" .. table.concat(lines, ",\n" .. indent .. " ") .. "]"
    end
    for _, i in ipairs(idx) do
      if i then parts[#parts + 1] = render(depth + 1, indent .. " ")
      else parts[#parts + 1] = "..." end
    end
    local sep = ",\n" .. string.rep("\n", ndim - depth - 1) .. indent .. " "
    return "[" .. table.concat(parts, sep) .. "]"
  end
  local body
  if a.size == 0 then
    body = "[]"
  else
    body = render(1, string.rep(" ", #prefix))
  end
  local s = prefix .. body
  if a.size == 0 or elide then
    s = s .. ", shape=(" .. table.concat(shape, ", ") .. (ndim == 1 and "," or "") .. ")"
  end
  return s .. ")"
end

mt.__tostring = function(a)
  if not pcall(function() return a.ndim end) then return c_tostring(a) end
  return format(a)
end

return { format = format }
