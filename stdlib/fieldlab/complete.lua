-- Tab completion for the fieldlab prompt.
--
-- complete(text [, env]) returns the full candidate strings (sorted) for the
-- word being typed: a global or keyword ("fie" -> "fieldlab"), a field of a
-- (nested) table ("fieldlab.core.x", "string.fo" -> "string.format") or a
-- method ("a:su" -> "a:sum"). Fields are looked up raw, then through the
-- metatable: the class tables of fieldlab objects (__methods, __properties)
-- and __index tables (so a string s completes s:upper). No __index function
-- or getter is ever called, and complete never raises: on anything odd it
-- returns an empty array.
local M = {}

local rawget, rawlen, next, type, getmetatable = rawget, rawlen, next, type, getmetatable

local MAXDEPTH = 8  -- __index chains followed at most this deep

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}
local is_keyword = {}
for _, k in ipairs(keywords) do is_keyword[k] = true end

-- Would `name` be offered for the typed prefix? Identifiers only; names that
-- start with "_" only when the prefix does.
local function wanted(name, prefix)
  return type(name) == "string" and name:match("^[%a_][%w_]*$") ~= nil
    and not is_keyword[name]
    and name:sub(1, #prefix) == prefix
    and (name:sub(1, 1) ~= "_" or prefix:sub(1, 1) == "_")
end

local function add(name, out, seen)
  if not seen[name] then
    seen[name] = true
    out[#out + 1] = name
  end
end

local function add_keys(t, prefix, functions_only, out, seen)
  for k, v in next, t do
    if wanted(k, prefix) and (not functions_only or type(v) == "function") then
      add(k, out, seen)
    end
  end
end

-- The names reachable from v: its own fields (tables), then its metatable's
-- __methods, __properties (not after ":") and __index table, recursively.
local function collect(v, prefix, colon, out, seen, depth)
  if depth > MAXDEPTH then return end
  if type(v) == "table" then add_keys(v, prefix, colon, out, seen) end
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return end
  local methods = rawget(mt, "__methods")
  if type(methods) == "table" then add_keys(methods, prefix, colon, out, seen) end
  local props = rawget(mt, "__properties")
  if not colon and type(props) == "table" then
    for i = 1, rawlen(props) do
      local name = rawget(props, i)
      if wanted(name, prefix) then add(name, out, seen) end
    end
  end
  local index = rawget(mt, "__index")
  if type(index) == "table" then collect(index, prefix, colon, out, seen, depth + 1) end
end

-- v[k] without calling any metamethod function.
local function get(v, k, depth)
  if depth > MAXDEPTH then return nil end
  if type(v) == "table" then
    local r = rawget(v, k)
    if r ~= nil then return r end
  end
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local methods = rawget(mt, "__methods")
  if type(methods) == "table" and rawget(methods, k) ~= nil then return rawget(methods, k) end
  local index = rawget(mt, "__index")
  if type(index) == "table" then return get(index, k, depth + 1) end
  return nil
end

local function candidates(text, env)
  local word = text:match("[%w_]*$")
  local head = text:sub(1, #text - #word)
  local out, seen = {}, {}
  if head == "" then
    if word:match("^%d") then return out end
    collect(env, word, false, out, seen, 0)
    for _, kw in ipairs(keywords) do
      if kw:sub(1, #word) == word then add(kw, out, seen) end
    end
  else
    local path, sep = head:match("^(.*)([.:])$")
    if not path then return out end
    local v = env
    for name in (path .. "."):gmatch("(.-)%.") do
      if not name:match("^[%a_][%w_]*$") or is_keyword[name] then return {} end
      v = get(v, name, 0)
      if v == nil then return {} end
    end
    collect(v, word, sep == ":", out, seen, 0)
  end
  table.sort(out)
  for i, name in ipairs(out) do out[i] = head .. name end
  return out
end

--- Completion candidates for `text` (the word before the cursor), looked up
-- in `env` (default _G). Always returns an array of strings.
function M.complete(text, env)
  if type(text) ~= "string" then return {} end
  local ok, res = pcall(candidates, text, env == nil and _G or env)
  if ok then return res end
  return {}
end

return M
