-- fieldlab.json: JSON text of a Lua value (man/api/fieldlab.txt), shared by
-- CheckReport:json, the subcommands' --json and scripts.
local core = require "fieldlab.core"

local M = {}

-- json.null stands for JSON null inside tables (a nil would drop the key).
M.null = setmetatable({}, { __name = "fieldlab.json.null", __tostring = function() return "null" end })

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function jstring(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return escapes[c] or string.format("\\u%04x", c:byte()) end) .. '"'
end

local function is_array(v)
  local a = core.array
  return a and a.is_array and a.is_array(v)
end

local function encode(v, state, depth)
  if depth > 100 then error("fieldlab.json: nesting deeper than 100 levels (a cycle?)", 0) end
  local tv = type(v)
  if v == nil or v == M.null then return "null"
  elseif tv == "boolean" then return v and "true" or "false"
  elseif tv == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then state.nonfinite = true return "null" end
    return string.format("%.17g", v)
  elseif tv == "string" then return jstring(v)
  elseif is_array(v) then
    return encode(v:reshape(v.size):totable(), state, depth + 1)
  elseif tv == "table" then
    local n = #v
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    if #keys == n then
      local items = {}
      for i = 1, n do items[i] = encode(v[i], state, depth + 1) end
      return "[" .. table.concat(items, ",") .. "]"
    end
    local skeys = {}
    for _, k in ipairs(keys) do skeys[#skeys + 1] = tostring(k) end
    table.sort(skeys)
    local items = {}
    for _, k in ipairs(skeys) do
      local val = v[k]
      if val == nil then val = v[tonumber(k)] end
      items[#items + 1] = jstring(k) .. ":" .. encode(val, state, depth + 1)
    end
    return "{" .. table.concat(items, ",") .. "}"
  end
  return jstring(tostring(v))
end

-- The text, and whether a NaN or an infinity was written as null.
function M.encode(v)
  local state = {}
  local s = encode(v, state, 0)
  return s, state.nonfinite == true
end

return M
