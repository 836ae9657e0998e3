-- fieldlab.help: the API documentation, for help() in the REPL and for the
-- man page fieldlab-lua(7) (scripts/mkman.lua). One source: the files
-- man/api/<module>.txt, compiled into the program as "doc/<module>" entries
-- of require("fieldlab.core").embedded. The format is described at the top
-- of man/api/fieldlab.txt; parse() below is its only reader.
local M = {}

local WIDTH = 78

local HEADERS = { ["function"] = true, method = true, property = true }

---------------------------------------------------------------- parsing

-- The key of a signature: "array.zeros(shape) -> Array" -> "array.zeros",
-- "Array:sum([axis])" -> "Array:sum", "Array.shape -> table" -> "Array.shape".
local KEYPAT = {
  ["function"] = "^[%a_][%w_]*%.?[%w_.]*$",
  method = "^[%a_][%w_]*:[%a_][%w_]*$",
  property = "^[%a_][%w_]*%.[%a_][%w_]*$",
}

local function sigkey(kind, sig)
  local key = sig:match("^([^%s(]+)")
  if not key or not key:match(KEYPAT[kind]) or key:match("%.$") or key:match("%.%.") then
    return nil
  end
  return key
end

-- The first sentence of the first paragraph, without markup.
local function summary_of(blocks)
  for _, b in ipairs(blocks) do
    if b.kind == "para" then
      local text = table.concat(b.lines, " "):gsub("`", "")
      -- a '.' ending a sentence: followed by a blank, not part of "..."
      local i = 1
      while true do
        local p = text:find("%.%s", i)
        if not p then return text end
        if text:sub(p - 1, p - 1) ~= "." then return text:sub(1, p) end
        i = p + 1
      end
    end
  end
  return ""
end

-- parse(text [, source]) -> entries, module
-- entries: every record of the file in order (the module first). Each has
--   kind   "module" | "type" | "function" | "method" | "property" | "topic"
--   keys   the lookup keys ({"array.zeros", "array.ones"} for a shared entry)
--   sigs   {{kind=, key=, text=}, ...} the header lines (functions, methods,
--          properties); for a module, type or topic the one heading
--   title  the heading text (topic title; "Array" for a type; module name)
--   blocks {{kind = "para"|"code"|"item", lines = {...}}, ...}
--   see    {"array.ones", ...}
--   module the module name; mt the metatable name (types); line
--   summary the first sentence
-- Errors name source:line.
function M.parse(text, source)
  source = source or "doc"
  local entries, module = {}, nil
  local cur, block, pending_blank = nil, nil, false
  local lineno = 0
  local function fail(msg) error(source .. ":" .. lineno .. ": " .. msg, 0) end
  local function finish()
    if cur then cur.summary = summary_of(cur.blocks) end
    cur, block, pending_blank = nil, nil, false
  end
  local function start(kind, title)
    finish()
    if kind ~= "module" and not module then fail("@" .. kind .. " before @module") end
    cur = { kind = kind, keys = {}, sigs = {}, title = title, blocks = {}, see = {},
            module = module and module.title, line = lineno, source = source }
    entries[#entries + 1] = cur
    return cur
  end
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    line = line:gsub("%s+$", "")
    if line:match("^#") then
      -- comment
    elseif line:match("^@") then
      local dir, rest = line:match("^@(%w+)%s*(.*)$")
      if not dir then fail("bad directive: " .. line) end
      if dir == "part" then
        -- more entries of a module documented in another file
        if module then fail("@part after @module or @part") end
        if not rest:match("^[%a_][%w_]*$") then fail("@part wants a module name") end
        finish()
        module = { title = rest, part = true }
      elseif dir == "module" then
        if module then fail("a second @module") end
        if not rest:match("^[%a_][%w_]*$") then fail("@module wants a name") end
        module = start("module", rest)
        module.keys[1] = rest
        module.module = rest
      elseif dir == "type" then
        local name, mt = rest:match("^([%a_][%w_]*)%s+(%S+)$")
        if not name then fail("@type wants: @type Name metatable.name") end
        local e = start("type", name)
        e.keys[1], e.mt = name, mt
      elseif dir == "topic" then
        local key, title = rest:match("^([%a_][%w_.-]*)%s+(.+)$")
        if not key then fail("@topic wants: @topic key Title words") end
        local e = start("topic", title)
        e.keys[1] = key
      elseif HEADERS[dir] then
        if rest == "" then fail("@" .. dir .. " wants a signature") end
        local key = sigkey(dir, rest)
        if not key then fail("bad " .. dir .. " signature: " .. rest) end
        -- consecutive headers share one body
        if not (cur and HEADERS[cur.kind] and #cur.blocks == 0 and #cur.see == 0) then
          start(dir, nil)
        end
        local dup = false
        for _, k in ipairs(cur.keys) do dup = dup or k == key end
        if not dup then cur.keys[#cur.keys + 1] = key end
        cur.sigs[#cur.sigs + 1] = { kind = dir, key = key, text = rest }
        cur.title = cur.title or rest
      elseif dir == "see" then
        if not cur then fail("@see outside an entry") end
        for k in rest:gmatch("[^,%s]+") do cur.see[#cur.see + 1] = k end
      else
        fail("unknown directive @" .. dir)
      end
    elseif not cur then
      if line ~= "" then fail(module and "text before the first entry" or "text before @module") end
    elseif line == "" then
      if block and block.kind == "code" then pending_blank = true else block = nil end
    elseif line:match("^    ") or line:match("^\t") then
      local code = line:gsub("^\t", "    "):sub(5)
      if block and block.kind == "code" then
        if pending_blank then block.lines[#block.lines + 1] = "" end
      else
        block = { kind = "code", lines = {} }
        cur.blocks[#cur.blocks + 1] = block
      end
      pending_blank = false
      block.lines[#block.lines + 1] = code
    else
      if #cur.see > 0 then fail("text after @see (put @see last)") end
      local item = line:match("^%*%s+(.*)$")
      local t = line:gsub("^%s+", "")
      if item then
        block = { kind = "item", lines = { item } }
        cur.blocks[#cur.blocks + 1] = block
      elseif block and block.kind ~= "code" and not pending_blank then
        block.lines[#block.lines + 1] = t
      else
        block = { kind = "para", lines = { t } }
        cur.blocks[#cur.blocks + 1] = block
      end
      pending_blank = false
    end
  end
  finish()
  if not module then lineno = 0; fail("no @module (or @part)") end
  -- owners of methods and properties are types of this file or of another one
  for _, e in ipairs(entries) do
    for _, s in ipairs(e.sigs) do
      if s.kind == "method" or s.kind == "property" then
        s.type = s.key:match("^([%w_]+)")
      end
    end
  end
  return entries, module
end

---------------------------------------------------------------- the doc set

local docs -- {modules = {...}, entries = {...}, index = key -> entry, types = name -> entry, bymt = mt -> entry}

local function module_order(a, b)
  if a == "fieldlab" then return b ~= "fieldlab" end
  if b == "fieldlab" then return false end
  return a < b
end

-- load_all([files]) -> doc set. files: name -> text (default: the "doc/"
-- entries of require("fieldlab.core").embedded). Cached unless files given.
function M.load_all(files)
  if docs and not files then return docs end
  if not files then
    local ok, core = pcall(require, "fieldlab.core")
    if not ok or type(core) ~= "table" or type(core.embedded) ~= "table" then
      error("fieldlab.help: the documentation is not available (fieldlab.core.embedded is missing)", 0)
    end
    files = core.embedded
  end
  local names = {}
  for name in pairs(files) do
    if type(name) == "string" and name:match("^doc/") then names[#names + 1] = name end
  end
  local set = { modules = {}, entries = {}, index = {}, types = {}, bymt = {}, keys = {} }
  local mods, parts = {}, {}
  table.sort(names)
  for _, name in ipairs(names) do
    local entries, module = M.parse(files[name], name)
    local list = module.part and parts or mods
    list[#list + 1] = { name = module.title, entries = entries, module = module, source = name }
  end
  table.sort(mods, function(a, b) return module_order(a.name, b.name) end)
  -- a @part file's entries follow those of its module (parts in file-name order)
  for _, p in ipairs(parts) do
    local owner
    for _, m in ipairs(mods) do if m.name == p.name then owner = m end end
    if not owner then
      error(("fieldlab.help: %s: @part %s names no documented module"):format(p.source, p.name), 0)
    end
    for _, e in ipairs(p.entries) do owner.entries[#owner.entries + 1] = e end
  end
  for _, m in ipairs(mods) do
    set.modules[#set.modules + 1] = m.module
    m.module.entries = m.entries
    for _, e in ipairs(m.entries) do
      set.entries[#set.entries + 1] = e
      for _, k in ipairs(e.keys) do
        if set.index[k] then
          error(("fieldlab.help: %s:%d: %q is documented twice"):format(e.source, e.line, k), 0)
        end
        set.index[k] = e
        set.keys[#set.keys + 1] = k
      end
      if e.kind == "type" then set.types[e.title] = e; set.bymt[e.mt] = e end
    end
  end
  table.sort(set.keys)
  if not files or files == (package.loaded["fieldlab.core"] or {}).embedded then docs = set end
  return set
end

-- Every documented key, sorted.
function M.keys() return M.load_all().keys end

---------------------------------------------------------------- the live API

local function fl()
  local ok, m = pcall(require, "fieldlab")
  if ok and type(m) == "table" then return m end
  return nil
end

local function core()
  local ok, m = pcall(require, "fieldlab.core")
  if ok and type(m) == "table" then return m end
  return nil
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

local function hidden(name) return name:sub(1, 1) == "_" end

-- {name, table} for every module: "fieldlab" itself first, then .modules.
local function live_modules()
  local F = fl()
  local out = {}
  if not F then return out end
  out[1] = { "fieldlab", F }
  local seen = { fieldlab = true }
  for _, name in ipairs(F.modules or {}) do
    if not seen[name] and type(F[name]) == "table" then
      seen[name] = true
      out[#out + 1] = { name, F[name] }
    end
  end
  return out
end

-- {tname, mt, typename} for every class, sorted by metatable name.
local function live_classes(set)
  local C = core()
  local out = {}
  if not C or type(C.classes) ~= "table" then return out end
  for _, mtname in ipairs(sorted_keys(C.classes)) do
    local mt = C.classes[mtname]
    local doc = set.bymt[mtname]
    local tname = doc and doc.title or mtname:match("([%w_]+)$")
    out[#out + 1] = { mtname, mt, tname }
  end
  return out
end

-- The documented key of a function in module `mod` under name `k`.
local function modkey(set, mod, k)
  local key = mod .. "." .. k
  if mod == "fieldlab" and not set.index[key] and set.index[k] then return k end
  return key
end

-- undocumented() -> names of module functions, class methods and properties
-- (and classes) that have no doc entry, sorted.
function M.undocumented()
  local set = M.load_all()
  local out = {}
  for _, m in ipairs(live_modules()) do
    local mod, t = m[1], m[2]
    if not set.index[mod] then out[#out + 1] = mod end
    for _, k in ipairs(sorted_keys(t)) do
      if type(t[k]) == "function" and not hidden(k) then
        local key = modkey(set, mod, k)
        if not set.index[key] then out[#out + 1] = key end
      end
    end
  end
  for _, c in ipairs(live_classes(set)) do
    local mtname, mt, tname = c[1], c[2], c[3]
    if not set.bymt[mtname] then out[#out + 1] = tname .. " (" .. mtname .. ")" end
    local methods = type(mt) == "table" and mt.__methods or {}
    for _, k in ipairs(sorted_keys(methods)) do
      if type(methods[k]) == "function" and not hidden(k) then
        local key = tname .. ":" .. k
        if not set.index[key] then out[#out + 1] = key end
      end
    end
    for _, k in ipairs(type(mt) == "table" and mt.__properties or {}) do
      local key = tname .. "." .. k
      if not set.index[key] then out[#out + 1] = key end
    end
  end
  return out
end

local function class_of_type(set, tname)
  local C = core()
  local doc = set.types[tname]
  if not C or type(C.classes) ~= "table" or not doc then return nil end
  return C.classes[doc.mt]
end

local function exists(set, kind, key)
  local F = fl()
  if kind == "function" and F and key:match("^[%w_]+%.[%w_]+%.[%w_.]+$") then
    -- a function in a table of a module: cmf.known.zeta3
    local t = F
    for part in key:gmatch("[^.]+") do
      if type(t) ~= "table" then return false end
      t = t[part]
    end
    return type(t) == "function"
  end
  if kind == "module" then
    return key == "fieldlab" and F ~= nil or (F and type(F[key]) == "table") or false
  elseif kind == "type" then
    return class_of_type(set, key) ~= nil
  elseif kind == "function" then
    if not F then return false end
    local mod, name = key:match("^([%w_]+)%.([%w_]+)$")
    if not mod then
      return type(F[key]) == "function" or type(_G[key]) == "function"
    end
    local t = mod == "fieldlab" and F or F[mod]
    return type(t) == "table" and type(t[name]) == "function"
  elseif kind == "method" or kind == "property" then
    local tname, name = key:match("^([%w_]+)[:.]([%w_]+)$")
    local mt = class_of_type(set, tname)
    if type(mt) ~= "table" then return false end
    if kind == "method" then
      return type(mt.__methods) == "table" and type(mt.__methods[name]) == "function"
    end
    for _, p in ipairs(mt.__properties or {}) do if p == name then return true end end
    return false
  end
  return true -- topics
end

-- stale() -> documented names that do not exist in the running program
-- (and @see references to undocumented keys), sorted.
function M.stale()
  local set = M.load_all()
  local out = {}
  -- documented modules that this build leaves out (poly, cmf, pcf, const
  -- without FLINT) are not stale: skip those absent from .modules
  local built = { fieldlab = true }
  local F = fl()
  for _, name in ipairs(F and F.modules or {}) do built[name] = true end
  for _, e in ipairs(set.entries) do
    if e.module and not built[e.module] then
      -- not in this build
    elseif e.kind == "module" or e.kind == "type" then
      if not exists(set, e.kind, e.keys[1]) then out[#out + 1] = e.keys[1] end
    else
      for _, s in ipairs(e.sigs) do
        if not exists(set, s.kind, s.key) then out[#out + 1] = s.key end
      end
    end
    for _, k in ipairs(e.see) do
      if not set.index[k] then out[#out + 1] = k .. " (in @see of " .. e.keys[1] .. ")" end
    end
  end
  table.sort(out)
  return out
end

---------------------------------------------------------------- lookup

local function levenshtein(a, b)
  if math.abs(#a - #b) > 3 then return 99 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function last_part(k) return k:match("([^.:]+)$") or k end

-- Close matches for an unknown name, best first.
function M.suggest(name, max)
  local set = M.load_all()
  max = max or 6
  local lname = name:lower()
  local lpart = last_part(lname)
  local scored = {}
  for _, k in ipairs(set.keys) do
    local lk = k:lower()
    local d = math.min(levenshtein(lname, lk), levenshtein(lpart, last_part(lk)))
    if #lpart >= 3 and lk:find(lpart, 1, true) then d = math.min(d, 1) end
    if d <= (#lpart >= 4 and 2 or 1) then scored[#scored + 1] = { k, d } end
  end
  table.sort(scored, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
  local out = {}
  for i = 1, math.min(max, #scored) do out[i] = scored[i][1] end
  return out
end

local function find_key(set, s)
  if set.index[s] then return set.index[s], s end
  local alt = s:gsub(":", "."):lower()
  local hits, seen = {}, {}
  for _, k in ipairs(set.keys) do
    local lk = k:gsub(":", "."):lower()
    if lk == alt or lk:sub(-#alt - 1) == "." .. alt then
      if not seen[set.index[k]] then
        seen[set.index[k]] = true
        hits[#hits + 1] = k
      end
    end
  end
  if #hits == 1 then return set.index[hits[1]], hits[1] end
  return nil, hits
end

-- The function values of the live API: function -> key.
local function function_keys(set)
  local map = {}
  for _, m in ipairs(live_modules()) do
    local mod, t = m[1], m[2]
    for _, k in ipairs(sorted_keys(t)) do
      local v = t[k]
      if type(v) == "function" and map[v] == nil then
        local key = modkey(set, mod, k)
        if set.index[key] then map[v] = key end
      end
    end
  end
  for _, c in ipairs(live_classes(set)) do
    local mt, tname = c[2], c[3]
    local methods = type(mt) == "table" and mt.__methods or {}
    for _, k in ipairs(sorted_keys(methods)) do
      local v = methods[k]
      local key = tname .. ":" .. k
      if type(v) == "function" and map[v] == nil and set.index[key] then map[v] = key end
    end
  end
  return map
end

-- lookup(x) -> entry, how   or   nil, message
-- how: "key" (x named an entry or was a documented function), "module",
-- "type" (x was a class metatable), "object" (x has a documented metatable),
-- "overview" (x == nil; entry is the doc set).
function M.lookup(x)
  local set = M.load_all()
  local tx = type(x)
  if x == nil then return set, "overview" end
  if tx == "string" then
    local s = x:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%(%)$", "")
    local e, hits = find_key(set, s)
    if e then return e, "key", hits end
    if #hits > 1 then
      return nil, ("%q is ambiguous: %s.\nName one, as in help(%q)."):format(s, table.concat(hits, ", "), hits[1])
    end
    local sug = M.suggest(s)
    local msg = ("no help for %q."):format(s)
    if #sug > 0 then msg = msg .. " Did you mean: " .. table.concat(sug, ", ") .. "?" end
    return nil, msg .. "\nhelp() lists the modules."
  end
  if tx == "function" then
    local key = function_keys(set)[x]
    if key then return set.index[key], "key", key end
    return nil, "no help for this function (not a documented fieldlab function)."
  end
  if tx == "table" then
    for _, m in ipairs(live_modules()) do
      if m[2] == x and set.index[m[1]] then return set.index[m[1]], "module", m[1] end
    end
    if type(x.__name) == "string" and set.bymt[x.__name] then
      return set.bymt[x.__name], "type", x.__name
    end
  end
  local mt = (tx == "table" or tx == "userdata") and getmetatable(x)
  if type(mt) == "table" and type(mt.__name) == "string" and set.bymt[mt.__name] then
    return set.bymt[mt.__name], "object", mt.__name
  end
  return nil, ("no help for this %s value. help() lists the modules."):format(tx)
end

---------------------------------------------------------------- text output

local function plain(s) return (s:gsub("`", "")) end

-- Words of s wrapped at WIDTH, each line prefixed by indent (first by first).
local function wrap(s, indent, first)
  first = first or indent
  local out, line = {}, first
  local empty = true
  for word in s:gmatch("%S+") do
    if not empty and #line + 1 + #word > WIDTH then
      out[#out + 1] = line
      line, empty = indent, true
    end
    line = line .. (empty and "" or " ") .. word
    empty = false
  end
  out[#out + 1] = line
  return table.concat(out, "\n") .. "\n"
end

local function body_text(e, indent)
  local parts = {}
  for _, b in ipairs(e.blocks) do
    if b.kind == "code" then
      local ls = {}
      for _, l in ipairs(b.lines) do ls[#ls + 1] = (l == "" and "" or indent .. "    " .. l) end
      parts[#parts + 1] = table.concat(ls, "\n") .. "\n"
    elseif b.kind == "item" then
      parts[#parts + 1] = wrap(plain(table.concat(b.lines, " ")), indent .. "  ", indent .. "* ")
    else
      parts[#parts + 1] = wrap(plain(table.concat(b.lines, " ")), indent)
    end
  end
  -- list items follow each other without a blank line
  local s = ""
  for i, p in ipairs(parts) do
    local sep = "\n"
    if i == 1 then sep = ""
    elseif e.blocks[i].kind == "item" and e.blocks[i - 1].kind == "item" then sep = "" end
    s = s .. sep .. p
  end
  if #e.see > 0 then
    s = s .. (s ~= "" and "\n" or "") .. wrap("See also: " .. table.concat(e.see, ", "), indent .. "  ", indent)
  end
  return s
end

local function heading(e)
  if e.kind == "module" then
    return "Module " .. e.title .. "\n"
  elseif e.kind == "type" then
    return "Type " .. e.title .. " (metatable " .. e.mt .. ")\n"
  elseif e.kind == "topic" then
    return e.title .. "\n"
  end
  local ls = {}
  for _, s in ipairs(e.sigs) do ls[#ls + 1] = s.text end
  return table.concat(ls, "\n") .. "\n"
end

-- One line per member: signature, then its summary indented below.
local function member_list(title, list)
  if #list == 0 then return "" end
  local s = "\n" .. title .. ":\n"
  for _, e in ipairs(list) do
    local sigs = {}
    for _, g in ipairs(e.sigs) do sigs[#sigs + 1] = g.text end
    if #sigs == 0 then sigs[1] = e.title .. " (help(\"" .. e.keys[1] .. "\"))" end
    for _, g in ipairs(sigs) do s = s .. "  " .. g .. "\n" end
    if e.summary ~= "" then s = s .. wrap(e.summary, "      ") end
  end
  return s
end

local function type_members(set, tname)
  local props, methods = {}, {}
  for _, e in ipairs(set.entries) do
    local s = e.sigs[1]
    if s and s.type == tname then
      if s.kind == "property" then props[#props + 1] = e else methods[#methods + 1] = e end
    end
  end
  return props, methods
end

local function module_text(set, e)
  local s = heading(e) .. "\n" .. body_text(e, "  ")
  local fns, types, topics = {}, {}, {}
  for _, x in ipairs(e.entries or {}) do
    if x.kind == "function" then fns[#fns + 1] = x
    elseif x.kind == "type" then types[#types + 1] = x
    elseif x.kind == "topic" then topics[#topics + 1] = x end
  end
  s = s .. member_list("Functions", fns)
  if #types > 0 then
    s = s .. "\nTypes:\n"
    for _, t in ipairs(types) do
      s = s .. "  " .. t.title .. " (help(\"" .. t.title .. "\"))\n" .. wrap(t.summary, "      ")
    end
  end
  if #topics > 0 then
    s = s .. "\nTopics:\n"
    for _, t in ipairs(topics) do
      s = s .. "  help(\"" .. t.keys[1] .. "\")  " .. t.title .. "\n"
    end
  end
  return s
end

local function type_text(set, e, object)
  local s
  if object then
    s = e.title .. " object (" .. e.mt .. ")\n\n" .. wrap(e.summary, "  ")
  else
    s = heading(e) .. "\n" .. body_text(e, "  ")
  end
  local props, methods = type_members(set, e.title)
  s = s .. member_list("Properties", props) .. member_list("Methods", methods)
  if object then s = s .. "\nhelp(\"" .. e.title .. "\") describes the type; help(\"" .. e.title .. ":name\") a method.\n" end
  return s
end

local function overview(set)
  local F = fl()
  local ver = F and type(F.version) == "function" and F.version() or nil
  local s = "fieldlab" .. (ver and (" " .. ver) or "") .. ": field experiments in Lua.\n\nModules:\n"
  local w = 0
  for _, m in ipairs(set.modules) do w = math.max(w, #m.title) end
  for _, m in ipairs(set.modules) do
    s = s .. wrap(m.summary, "  " .. (" "):rep(w + 2), "  " .. m.title .. (" "):rep(w + 2 - #m.title))
  end
  s = s .. [[

Usage:
  help(array)            a module: its description and functions
  help(array.zeros)      a function, given as a value
  help("Array:sum")      anything by name; help("zeros") also works
  help(a)                an object: its type, properties and methods
  man fieldlab-lua       the whole reference in one page
]]
  return s
end

-- text(x) -> the help text for x (a string), or the "no help" message.
function M.text(x)
  local e, how = M.lookup(x)
  if not e then return how .. "\n" end
  if how == "overview" then return overview(e) end
  if e.kind == "module" then return module_text(M.load_all(), e) end
  if e.kind == "type" then return type_text(M.load_all(), e, how == "object") end
  return heading(e) .. (#e.blocks + #e.see > 0 and "\n" .. body_text(e, "  ") or "")
end

-- help([x]): print the documentation of x (a function, module, object or name).
function M.help(...)
  io.write(M.text((...)))
end

return M
