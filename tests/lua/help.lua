-- help(): lookup by value, by name and by object, the overview, suggestions,
-- the 78-column layout, and the doc format parser (fieldlab.help.parse).
local H = require "fieldlab.help"

-- The text help(...) writes with io.write.
local function capture(...)
  local parts, write = {}, io.write
  io.write = function(...)
    for _, s in ipairs({ ... }) do parts[#parts + 1] = tostring(s) end
    return io.stdout
  end
  local ok, err = pcall(help, ...)
  io.write = write
  assert(ok, err)
  return table.concat(parts)
end

local function has(text, frag, what)
  assert(text:find(frag, 1, true), ("%s: %q not found in:\n%s"):format(what, frag, text))
end

assert(type(help) == "function" and help == require("fieldlab").help, "help is the global function")

-- by function value
local t = capture(array.zeros)
has(t, "array.zeros(shape)", "help(array.zeros)")
has(t, "array.ones(shape)", "help(array.zeros) shows the shared entry")
has(capture(array.linspace), "both ends included", "help(array.linspace)")
has(capture(help), "help([x])", "help(help)")
has(capture(fieldlab.set_seed), "fieldlab.set_seed(n)", "help(fieldlab.set_seed)")

-- by name: exact, a unique suffix, '.' for ':', with "()"
has(capture("Array:sum"), "Array:sum([axis])", 'help("Array:sum")')
has(capture("Array:sum"), "population", 'help("Array:sum") body')
has(capture("zeros"), "array.zeros(shape)", 'help("zeros")')
has(capture("argmin"), "Array:argmin([axis])", 'help("argmin"), a unique last part')
has(capture("save"), "is ambiguous", 'help("save") names several entries')
has(capture("save"), "Array:save", 'help("save") lists the candidates')
has(capture("Array.sum"), "Array:sum([axis])", 'help("Array.sum")')
has(capture("array.eye()"), "array.eye(n [, m])", 'help("array.eye()")')
has(capture("indexing"), "a[i]", 'help("indexing")')
has(capture("Array"), "metatable fieldlab.Array", 'help("Array")')

-- a module lists its functions, types and topics
t = capture(array)
has(t, "Module array", "help(array)")
has(t, "array.zeros(shape) -> Array", "help(array) lists zeros")
has(t, "array.lstsq(", "help(array) lists lstsq")
has(t, "Array", "help(array) lists the type")
has(capture(fieldlab), "fieldlab.threads()", "help(fieldlab)")

-- an object: its type, properties and methods
local a = array.zeros{2, 3}
t = capture(a)
has(t, "Array object", "help(a)")
has(t, "shape", "help(a) lists properties")
has(t, "Array:sum(", "help(a) lists methods")
has(t, "Array:reshape(", "help(a) lists methods")
-- a method taken from an object
has(capture(a.sum), "Array:sum([axis])", "help(a.sum)")
has(capture(a.reshape), "Array:reshape(", "help(a.reshape)")
-- a closed object still gets help
local c = array.ones(3)
c:close()
has(capture(c), "Array object", "help(closed array)")

-- the overview
t = capture()
has(t, "Modules:", "help()")
has(t, "array", "help() lists array")
has(t, "fieldlab", "help() lists fieldlab")
has(t, 'help("Array:sum")', "help() tells how to call help")
assert(capture(nil) == t, "help(nil) is help()")

-- unknown names suggest close matches; other values say so
t = capture("nosuchthing")
has(t, 'no help for "nosuchthing"', "unknown name")
has(t, "help()", "unknown name points to help()")
has(capture("zeors"), "array.zeros", "a typo suggests the right name")
has(capture("lin"), "array.linspace", "a fragment suggests names containing it")
has(capture(print), "no help", "an undocumented function")
has(capture(42), "no help", "a number")
has(capture({}), "no help", "a plain table")
-- an ambiguous suffix lists the candidates
t = capture("save")
has(t, "ambiguous", 'help("save")')
has(t, "array.save", 'help("save") candidates')
has(t, "Array:save", 'help("save") candidates')

-- Every entry renders, within 78 columns except for code lines.
local set = H.load_all()
local code = {}
for _, e in ipairs(set.entries) do
  for _, b in ipairs(e.blocks) do
    if b.kind == "code" then for _, l in ipairs(b.lines) do code[l] = true end end
  end
end
for _, k in ipairs(H.keys()) do
  local text = H.text(k)
  assert(not text:find("^no help"), "no help for documented key " .. k)
  for line in text:gmatch("([^\n]*)\n") do
    if #line > 78 then
      local body = line:gsub("^%s+", "")
      local ok = false
      for c in pairs(code) do
        if c:gsub("^%s+", "") == body then ok = true break end
      end
      assert(ok, ("help(%q): a line of %d columns:\n%s"):format(k, #line, line))
    end
  end
end

-- the parser: shared headers, code blocks (with a blank line inside), list
-- items, @see, comments, types and topics
local doc = [[
# a comment
@module demo
Demo module. Second sentence.

More text,
continued.

@type Thing demo.Thing
A thing.

@function demo.a(x) -> number
@function demo.b(x, [y]) -> number
Shared body for `a` and b.

    local v = demo.a(1)

    print(v)
* first item
  continued
* second item
@see demo.c, Thing:m

@method Thing:m(n)
A method.
@property Thing.size -> integer
Its size.
@topic rules Rules of the demo
Rules...
]]
local entries, mod = H.parse(doc, "demo.txt")
assert(mod.kind == "module" and mod.title == "demo" and entries[1] == mod, "module record")
assert(mod.summary == "Demo module.", "module summary: " .. mod.summary)
assert(#mod.blocks == 2 and mod.blocks[2].lines[2] == "continued.", "module paragraphs")
assert(#entries == 6, "6 entries, got " .. #entries)
local thing = entries[2]
assert(thing.kind == "type" and thing.keys[1] == "Thing" and thing.mt == "demo.Thing", "type record")
local ab = entries[3]
assert(ab.kind == "function" and #ab.keys == 2 and ab.keys[1] == "demo.a" and ab.keys[2] == "demo.b",
  "shared entry keys")
assert(ab.sigs[2].text == "demo.b(x, [y]) -> number", "shared entry signature")
assert(ab.summary == "Shared body for a and b.", "summary without markup: " .. ab.summary)
assert(ab.blocks[2].kind == "code", "code block")
assert(#ab.blocks[2].lines == 3 and ab.blocks[2].lines[1] == "local v = demo.a(1)"
  and ab.blocks[2].lines[2] == "" and ab.blocks[2].lines[3] == "print(v)", "code block keeps its blank line")
assert(ab.blocks[3].kind == "item" and ab.blocks[3].lines[2] == "continued", "list item with continuation")
assert(ab.blocks[4].kind == "item" and ab.blocks[4].lines[1] == "second item", "second list item")
assert(ab.see[1] == "demo.c" and ab.see[2] == "Thing:m", "@see")
assert(entries[4].kind == "method" and entries[4].keys[1] == "Thing:m" and entries[4].sigs[1].type == "Thing",
  "method")
assert(entries[5].kind == "property" and entries[5].keys[1] == "Thing.size", "property")
assert(entries[6].kind == "topic" and entries[6].keys[1] == "rules" and entries[6].title == "Rules of the demo",
  "topic")
assert(entries[6].summary == "Rules...", "a summary does not stop at '...': " .. entries[6].summary)

-- malformed docs are errors naming the line
local function bad(text, frag)
  local ok, err = pcall(H.parse, text, "bad.txt")
  assert(not ok, "expected a parse error for: " .. text)
  assert(err:find(frag, 1, true), ("parse error %q lacks %q"):format(err, frag))
end
bad("text first\n@module m\n", "bad.txt:1:")
bad("@module m\n@frobnicate x\n", "bad.txt:2: unknown directive @frobnicate")
bad("@module m\n@function (x)\n", "bad.txt:2: bad function signature")
bad("@module m\n@method m.f(x)\n", "bad.txt:2: bad method signature")
bad("@module m\n@function m.f()\nText.\n@see m.g\nmore\n", "bad.txt:5: text after @see")
bad("# nothing\n", "no @module")

-- a doc set from given files: duplicate keys are an error (and the real docs
-- stay in place)
local ok, err = pcall(H.load_all, { ["doc/x"] = "@module x\n@function x.f()\nF.\n",
                                    ["doc/y"] = "@module y\n@function x.f()\nF again.\n" })
assert(not ok and err:find("documented twice", 1, true), "duplicate keys: " .. tostring(err))
local s2 = H.load_all({ ["doc/p"] = "@module p\n@function p.go()\nGo.\n@function p.sub.go()\nGo too.\n" })
assert(s2.index["p.go"] and s2.index["p.sub.go"], "a doc set from files")
assert(H.load_all() ~= s2, "load_all(files) does not replace the program's docs")
t = capture("go")
has(t, "no help", "the real docs have no 'go'")

-- @part files add entries to a module documented elsewhere
do
  local H = require "fieldlab.help"
  local set = H.load_all{
    ["doc/m"] = "@module m\nThe m module.\n\n@function m.a()\nDoes a.\n",
    ["doc/m-extra"] = "@part m\n@function m.b()\nDoes b.\n",
  }
  assert(set.index["m.b"] and set.index["m.b"].module == "m", "part entry indexed under its module")
  assert(#set.modules == 1 and #set.modules[1].entries == 3, "parts merge into the module")
  local ok, err = pcall(H.load_all, { ["doc/x"] = "@part nosuch\n@function nosuch.f()\nF.\n" })
  assert(not ok and err:find("names no documented module"), err)
end
