-- The API docs (man/api/*.txt) are complete and current: every module
-- function, class, method and property of the running program has an entry,
-- every entry names something that exists, and every entry says something.
local help = require "fieldlab.help"

local function list(t) return "\n  " .. table.concat(t, "\n  ") .. "\n" end

-- the checker sees a new module function and a new method
local mt = require("fieldlab.core").classes["fieldlab.Array"]
array.zz_probe = function() end
mt.__methods.zz_probe = function() end
local probe = table.concat(help.undocumented(), " ")
array.zz_probe, mt.__methods.zz_probe = nil, nil
assert(probe:find("array.zz_probe", 1, true) and probe:find("Array:zz_probe", 1, true),
  "undocumented() misses new functions: " .. probe)

local missing = help.undocumented()
assert(#missing == 0, "undocumented (add them to man/api/<module>.txt):" .. list(missing))

local stale = help.stale()
assert(#stale == 0, "documented but not in the program (or a bad @see):" .. list(stale))

-- Every module of require("fieldlab").modules has its doc file.
local set = help.load_all()
local F = require "fieldlab"
for _, name in ipairs(F.modules) do
  assert(set.index[name] and set.index[name].kind == "module",
    "module " .. name .. " has no man/api/" .. name .. ".txt (@module " .. name .. ")")
end

-- Every entry has a body whose first sentence can stand alone in a list.
local empty = {}
for _, e in ipairs(set.entries) do
  if e.summary == "" or not e.summary:match("[.!?]$") then
    empty[#empty + 1] = e.keys[1] .. " (" .. e.source .. ":" .. e.line .. "): " .. (e.summary == "" and "no text" or "summary without a full stop: " .. e.summary)
  end
end
assert(#empty == 0, "entries without a proper first sentence:" .. list(empty))

-- The docs stay ASCII (the man page generator escapes, but help() prints raw).
for _, e in ipairs(set.entries) do
  for _, b in ipairs(e.blocks) do
    for _, l in ipairs(b.lines) do
      assert(not l:find("[\128-\255]"), e.source .. ": non-ASCII text in " .. e.keys[1] .. ": " .. l)
    end
  end
end
