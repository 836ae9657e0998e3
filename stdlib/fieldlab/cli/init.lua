-- fieldlab.cli: what every subcommand (`fieldlab CMD ...`, the modules
-- fieldlab.cli.<cmd>) shares: GNU-style option parsing with strict values,
-- usage errors (exit 2) and failed runs (exit 1), the output table, the JSON
-- writer, and the names of exact fields and of data sets.
--
-- A subcommand module returns a table:
--   { name = "check", summary = "one line", synopsis = "usage text",
--     options = { {"points", "file"}, {"n", "int", min = 1}, ... },
--     args = {min = 1, max = 1}, run = function(cli, opts, args) ... end }
-- Option kinds: "flag", "string", "file", "int", "number", "numbers"
-- (a comma-separated list; `count` = allowed lengths), "ints", "choice"
-- (`choices`), "list" (comma-separated words, each among `choices`).
-- run returns nothing (exit 0) or an exit status; it reports problems with
-- cli.usage (exit 2) or cli.fail (exit 1).
local M = {}

M.EXIT_OK, M.EXIT_FAIL, M.EXIT_USAGE = 0, 1, 2

local Problem = {}
Problem.__index = Problem
Problem.__tostring = function(p) return p.msg end

-- Raise a usage error: the message, then a pointer to --help; exit 2.
function M.usage(fmt, ...)
  error(setmetatable({ msg = string.format(fmt, ...), status = 2 }, Problem), 0)
end

-- Raise a failed run: the message alone; exit 1.
function M.fail(fmt, ...)
  error(setmetatable({ msg = string.format(fmt, ...), status = 1 }, Problem), 0)
end

-- Diagnostics and progress go to stderr.
function M.note(fmt, ...)
  io.stderr:write(string.format(fmt, ...), "\n")
end

-- ------------------------------------------------------------ values

local function trim_number(s)
  -- strict: a decimal or hexadecimal number, nothing else (no spaces)
  if s:find("^%s") or s:find("%s$") or s == "" then return nil end
  local v = tonumber(s)
  if v == nil or v ~= v then return nil end
  return v
end

local function split_commas(s)
  local out = {}
  for item in (s .. ","):gmatch("([^,]*),") do out[#out + 1] = item end
  return out
end

local parsers = {}
function parsers.string(o, v) return v end
function parsers.file(o, v)
  if v == "" then M.usage("option '--%s' needs a file name", o[1]) end
  return v
end
function parsers.number(o, v)
  local x = trim_number(v)
  if x == nil or x == math.huge or x == -math.huge then
    M.usage("option '--%s' needs a number, got '%s'", o[1], v)
  end
  if o.min and x < o.min then M.usage("option '--%s' must be >= %s, got '%s'", o[1], o.min, v) end
  if o.positive and x <= 0 then M.usage("option '--%s' must be > 0, got '%s'", o[1], v) end
  return x
end
function parsers.int(o, v)
  local x = v:find("^[+-]?%d+$") and math.tointeger(tonumber(v))
  if not x then M.usage("option '--%s' needs an integer, got '%s'", o[1], v) end
  if o.min and x < o.min then M.usage("option '--%s' must be >= %d, got '%s'", o[1], o.min, v) end
  if o.max and x > o.max then M.usage("option '--%s' must be <= %d, got '%s'", o[1], o.max, v) end
  return x
end
local function check_count(o, list, v)
  if o.count then
    for _, c in ipairs(o.count) do if #list == c then return list end end
    local cs = {}
    for i, c in ipairs(o.count) do cs[i] = tostring(c) end
    M.usage("option '--%s' needs %s comma-separated values, got %d in '%s'", o[1],
      table.concat(cs, " or "), #list, v)
  end
  return list
end
function parsers.numbers(o, v)
  local list = {}
  for i, item in ipairs(split_commas(v)) do
    local x = trim_number(item)
    if x == nil or x == math.huge or x == -math.huge then
      M.usage("option '--%s' needs a comma-separated list of numbers, item %d is '%s'", o[1], i, item)
    end
    if o.min and x < o.min then M.usage("option '--%s': every value must be >= %s, got '%s'", o[1], o.min, item) end
    list[i] = x
  end
  return check_count(o, list, v)
end
function parsers.ints(o, v)
  local list = {}
  for i, item in ipairs(split_commas(v)) do
    local x = item:find("^[+-]?%d+$") and math.tointeger(tonumber(item))
    if not x then
      M.usage("option '--%s' needs a comma-separated list of integers, item %d is '%s'", o[1], i, item)
    end
    list[i] = x
  end
  return check_count(o, list, v)
end
function parsers.choice(o, v)
  for _, c in ipairs(o.choices) do if c == v then return v end end
  M.usage("option '--%s' must be one of %s, got '%s'", o[1], table.concat(o.choices, ", "), v)
end
function parsers.list(o, v)
  local list, seen = {}, {}
  for _, item in ipairs(split_commas(v)) do
    local ok = false
    for _, c in ipairs(o.choices) do if c == item then ok = true end end
    if not ok then
      M.usage("option '--%s': unknown item '%s' (choose from %s)", o[1], item, table.concat(o.choices, ", "))
    end
    if not seen[item] then list[#list + 1] = item; seen[item] = true end
  end
  return list
end

-- ----------------------------------------------------------- parsing

-- Parse args (a list of strings) against a command's options. Returns the
-- option table (by name, '-' in names becomes '_') and the operands.
-- "--" ends the options; a lone "-" is an operand; -h is --help.
function M.parse(cmd, args)
  local byname = { help = { "help", "flag" } }
  for _, o in ipairs(cmd.options or {}) do byname[o[1]] = o end
  local opts, operands = {}, {}
  local i, n = 1, #args
  while i <= n do
    local a = args[i]
    if a == "--" then
      for k = i + 1, n do operands[#operands + 1] = args[k] end
      break
    elseif a == "-h" then
      opts.help = true
    elseif a:sub(1, 2) == "--" then
      local name, val = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local o = byname[name]
      if not o then M.usage("unrecognized option '--%s'", name) end
      if o[2] == "flag" then
        if val then M.usage("option '--%s' takes no value", name) end
        opts[(name:gsub("-", "_"))] = true
      else
        if not val then
          if i == n then M.usage("option '--%s' needs a value", name) end
          i = i + 1
          val = args[i]
        end
        opts[(name:gsub("-", "_"))] = parsers[o[2]](o, val)
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" and not tonumber(a) then
      M.usage("unrecognized option '%s'", a)
    else
      operands[#operands + 1] = a
    end
    i = i + 1
  end
  return opts, operands
end

-- Refuse two options given together.
function M.exclusive(opts, a, b)
  if opts[a:gsub("-", "_")] ~= nil and opts[b:gsub("-", "_")] ~= nil then
    M.usage("options '--%s' and '--%s' cannot be used together", a, b)
  end
end

-- ------------------------------------------------------------ output

-- A text table: columns padded to their widths, numbers to `digits`
-- significant digits (default 6).
function M.format(v, digits)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%." .. (digits or 6) .. "g", v)
  elseif v == nil then
    return "-"
  end
  return tostring(v)
end

function M.table(header, rows, digits)
  local cells, width = {}, {}
  local all = { header }
  for _, r in ipairs(rows) do all[#all + 1] = r end
  for i, r in ipairs(all) do
    cells[i] = {}
    for j = 1, #header do
      local s = M.format(r[j], digits)
      cells[i][j] = s
      width[j] = math.max(width[j] or 0, #s)
    end
  end
  local lines = {}
  for i, r in ipairs(cells) do
    local parts = {}
    for j, s in ipairs(r) do
      parts[j] = j < #r and s .. string.rep(" ", width[j] - #s) or s
    end
    lines[i] = table.concat(parts, "  ")
  end
  return table.concat(lines, "\n")
end

-- JSON text of a Lua value (fieldlab.json): NaN and infinities as null.
function M.json(v)
  return (require("fieldlab.json").encode(v))
end

-- Write text to the file path ("-": stdout); a failure to write is a failed run.
function M.write_file(path, text)
  if path == "-" then
    io.stdout:write(text, "\n")
    return
  end
  local fh, err = io.open(path, "w")
  if not fh then M.fail("cannot write '%s': %s", path, err) end
  fh:write(text, "\n")
  fh:close()
end

-- ------------------------------------------------------------- inputs

-- Load a .npy file; a missing or malformed file is a failed run.
function M.load_npy(path, what)
  local ok, a = pcall(array.load, path)
  if not ok then M.fail("cannot load %s '%s': %s", what or "array", path, tostring(a)) end
  return a
end

-- The box of a grid of d axes from --box: 2 numbers (every axis) or 2d.
function M.box(list, d, optname)
  optname = optname or "box"
  if #list ~= 2 and #list ~= 2 * d then
    M.usage("option '--%s' needs 2 or %d numbers for a %d-D grid, got %d", optname, 2 * d, d, #list)
  end
  local box = {}
  for k = 1, d do
    local a, b = list[1], list[2]
    if #list == 2 * d then a, b = list[2 * k - 1], list[2 * k] end
    if not (b > a) then M.usage("option '--%s': axis %d needs a < b, got %s,%s", optname, k, M.format(a), M.format(b)) end
    box[k] = { a, b }
  end
  return box
end

-- Exact fields by name (documented in fieldlab-check(1), FIELD NAMES):
--   gmm:DATA[:SCHEDULE[:score|velocity]][,gauge=EPS]
--       the exact score (default) or probability-flow velocity of the toy
--       density DATA (data.toy_density) noised by the schedule (vp, ve,
--       edm, linear, cosine); without a schedule the score of DATA itself.
--       gauge=EPS adds EPS times the gauge field A s, A = [[0,-1],[1,0]]:
--       same densities, not conservative.
--   NAME[,key=value...]   field.NAME{key = value, ...} for NAME among
--       rotation, shear, vortex, taylor_green, abc (numeric options).
M.analytic = { "rotation", "shear", "vortex", "taylor_green", "abc" }
M.schedules = { "vp", "ve", "edm", "linear", "cosine" }

local function parse_params(spec, name)
  local params = {}
  for _, kv in ipairs(split_commas(spec)) do
    local k, v = kv:match("^([%a_][%w_]*)=(.+)$")
    local x = v and trim_number(v)
    if not x then M.usage("field '%s': parameter '%s' is not key=number", name, kv) end
    params[k] = x
  end
  return params
end

-- Returns a description table {field =, name =, dim =, time_dependent =,
-- noised = (the Schedule:noised table or nil), data = (toy data name or nil),
-- reference = (the exact field without gauge, or nil), schedule =}, or nil
-- when spec is not an exact-field name.
function M.named_field(spec)
  local base, rest = spec:match("^([^,]*),?(.*)$")
  local params = rest ~= "" and parse_params(rest, spec) or {}
  if base:find("^gmm:") then
    local parts = {}
    for p in (base:sub(5) .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
    local dname, sname, what = parts[1], parts[2], parts[3] or "score"
    if #parts > 3 then M.usage("field '%s': too many ':' parts (gmm:DATA[:SCHEDULE[:score|velocity]])", spec) end
    local ok, g = pcall(data.toy_density, dname)
    if not ok then M.usage("field '%s': %s", spec, tostring(g):gsub("^.-: ", "", 1)) end
    for k in pairs(params) do
      if k ~= "gauge" then M.usage("field '%s': unknown parameter '%s' (gmm fields take gauge=EPS)", spec, k) end
    end
    local d = { name = spec, data = dname, density = g, dim = g.dim }
    local f
    if sname == nil or sname == "" then
      if what ~= "score" then M.usage("field '%s': a velocity needs a schedule", spec) end
      f = g:score_field()
      d.time_dependent = false
    else
      local mk = diffusion[sname]
      local known = false
      for _, s in ipairs(M.schedules) do known = known or s == sname end
      if not known or not mk then
        M.usage("field '%s': unknown schedule '%s' (choose from %s)", spec, sname, table.concat(M.schedules, ", "))
      end
      if what ~= "score" and what ~= "velocity" then
        M.usage("field '%s': unknown quantity '%s' (score or velocity)", spec, what)
      end
      d.schedule = mk()
      d.noised = d.schedule:noised(g)
      f = d.noised[what]
      d.time_dependent = true
    end
    d.reference = f
    if params.gauge and params.gauge ~= 0 then
      if d.dim ~= 2 then M.usage("field '%s': gauge=EPS needs a 2-D density", spec) end
      local s = d.noised and d.noised.score or f
      f = f + params.gauge * field.gauge{ A = { { 0, -1 }, { 1, 0 } }, score = s }
    end
    d.field = f
    return d
  end
  for _, n in ipairs(M.analytic) do
    if base == n then
      local ok, f = pcall(field[n], params)
      if not ok then M.usage("field '%s': %s", spec, (tostring(f):gsub("^.-: ", "", 1))) end
      return { name = spec, field = f, dim = f.dim, time_dependent = f.time_dependent }
    end
  end
  return nil
end

-- The data set names of data.toy.
function M.data_names() return data.names() end

-- ---------------------------------------------------------- running

-- Synopsis of a subcommand for --help and usage errors.
function M.help_text(cmd)
  return cmd.synopsis
end

local function load_command(name)
  local ok, cmd = pcall(require, "fieldlab.cli." .. name)
  if not ok then return nil, cmd end
  return cmd
end
M.load_command = load_command

-- The subcommands, in the order `fieldlab help` lists them.
M.commands = { "check", "decompose", "train", "sample", "cmf", "help" }

-- Run `fieldlab NAME args...`: returns the exit status.
function M.main(name, args)
  local cmd, err = load_command(name)
  if not cmd or type(cmd) ~= "table" or not cmd.run then
    io.stderr:write("fieldlab: no such subcommand '", name, "'", err and (": " .. tostring(err)) or "", "\n")
    return M.EXIT_FAIL
  end
  local prog = "fieldlab " .. name
  local ok, status = xpcall(function()
    local opts, operands = M.parse(cmd, args)
    if opts.help then
      io.stdout:write(cmd.synopsis)
      return M.EXIT_OK
    end
    local a = cmd.args or { min = 0, max = 0 }
    if #operands < a.min then M.usage("missing %s", a.name or "operand") end
    if a.max and #operands > a.max then M.usage("unexpected operand '%s'", operands[a.max + 1]) end
    return cmd.run(M, opts, operands) or M.EXIT_OK
  end, function(e)
    if getmetatable(e) == Problem then return e end
    return debug.traceback(tostring(e), 2)
  end)
  io.stdout:flush()
  if ok then return status end
  if getmetatable(status) == Problem then
    io.stderr:write(prog, ": ", status.msg, "\n")
    if status.status == M.EXIT_USAGE then
      io.stderr:write("Try '", prog, " --help' for more information.\n")
    end
    return status.status
  end
  -- an error raised by a module: its message (file positions of the Lua
  -- stack are in the traceback, which only FIELDLAB_DEBUG prints)
  local msg = tostring(status)
  local first = msg:match("^[^\n]*")
  first = first:gsub("^[^:\n]*%.lua:%d+: ", "")
  io.stderr:write(prog, ": ", first, "\n")
  if os.getenv("FIELDLAB_DEBUG") then io.stderr:write(msg, "\n") end
  return M.EXIT_FAIL
end

return M
