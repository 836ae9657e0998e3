-- fieldlab cmf: walk a conservative matrix field (module cmf) along a
-- trajectory and print the limit, its precision, (--delta) its
-- irrationality measure and (--identify) its closed form in terms of
-- constants (Limit:identify). See fieldlab-cmf(1).
local cmd = {
  name = "cmf",
  summary = "walk a conservative matrix field and print its limit",
  args = { min = 1, max = 1, name = "NAME or FILE.lua" },
}

cmd.synopsis = [==[
usage: fieldlab cmf NAME|FILE.lua --trajectory LIST --depth N [options]
Walk a conservative matrix field along a trajectory and print the limit of
p/q, the digits the depth supports and, with --delta, the irrationality
measure.

NAME is a known field: e, pi, symmetric_pi, zeta3, zeta2, log,
hypergeometric_2F1 (cmf.known); FILE.lua is a Lua script that returns a
CMF (cmf.new{...}).

Options:
  --trajectory LIST  integer steps per axis, e.g. 1,1
  --depth N          number of trajectory steps (>= 2)
  --start LIST       start point, integers or p/q per axis (default: the
                     known field's start, else all 1)
  --digits D         digits of the printed value (default: all supported,
                     at most 50)
  --delta            also print delta, blind (against the limit at depth 2N)
  --identify         identify the limit: a closed form in the constants of
                     the basis (PSLQ, coefficients below 1000)
  --basis LIST       the constants for --identify, e.g. pi,e,zeta3 (names:
                     pi, e, log2, catalan, euler, gompertz, zetaK; default: the known
                     field's constant)
  --json FILE        also write the result as JSON ('-': stdout only)
  -h, --help         show this help

Exit status: 0 success, 1 the run failed, 2 usage error.
]==]

cmd.options = {
  { "trajectory", "ints" }, { "depth", "int", min = 2, max = 100000000 },
  { "start", "string" }, { "digits", "int", min = 1, max = 100000 },
  { "delta", "flag" }, { "identify", "flag" }, { "basis", "string" }, { "json", "file" },
}

-- The start points of the known fields (man/api/cmf.txt).
local starts = { e = { 0, 0 }, pi = { 1, 0 }, symmetric_pi = { 1, 1 }, zeta3 = { 1, 1 }, zeta2 = { 1, 1 }, log = { 1, 1 },
  hypergeometric_2F1 = { 1, 1, 1 } }
-- The constants their limits are made of (the default basis of --identify).
local bases = { e = { "e" }, pi = { "pi" }, symmetric_pi = { "pi" }, zeta3 = { "zeta3" }, zeta2 = { "zeta2" },
  log = { "log2" }, hypergeometric_2F1 = { "pi" } }

local function parse_basis(cli, s)
  local out = {}
  for item in (s .. ","):gmatch("([^,]*),") do
    if not cmf._known_constant(item) then
      cli.usage("option '--basis': unknown constant '%s' (known: pi, e, log2, catalan, euler, gompertz, zeta2, zeta3, ... zetaK)",
        item)
    end
    out[#out + 1] = item
  end
  return out
end

local function parse_start(cli, s)
  local out = {}
  for item in (s .. ","):gmatch("([^,]*),") do
    if item:find("^[+-]?%d+$") then out[#out + 1] = math.tointeger(tonumber(item))
    elseif item:find("^[+-]?%d+/%d+$") and not item:find("/0+$") then out[#out + 1] = item
    else cli.usage("option '--start' needs integers or fractions p/q, item %d is '%s'", #out + 1, item) end
  end
  return out
end

function cmd.run(cli, o, args)
  local spec = args[1]
  if type(cmf) ~= "table" or type(cmf.new) ~= "function" then
    cli.fail("needs module cmf (not in this build)")
  end
  if not o.trajectory then cli.usage("missing option '--trajectory'") end
  if not o.depth then cli.usage("missing option '--depth'") end
  local start = o.start and parse_start(cli, o.start)
  local basis = o.basis and parse_basis(cli, o.basis)
  if basis and not o.identify then cli.usage("option '--basis' goes with '--identify'") end
  local c
  if spec:find("%.lua$") then
    local chunk, err = loadfile(spec)
    if not chunk then cli.fail("cannot load '%s': %s", spec, err) end
    c = chunk()
    if type(c) ~= "userdata" or not tostring(c):find("CMF") then
      cli.fail("'%s' must return a CMF (cmf.new{...}), got %s", spec, type(c))
    end
  else
    local mk = rawget(cmf.known, spec)
    if not mk then
      local names = {}
      for k in pairs(starts) do names[#names + 1] = k end
      table.sort(names)
      cli.usage("unknown field '%s' (known: %s, or FILE.lua)", spec, table.concat(names, ", "))
    end
    c = mk()
    start = start or starts[spec]
    basis = basis or bases[spec]
  end
  if o.identify and not basis then cli.usage("option '--identify' needs '--basis' for a field of one's own") end
  local dim = c:dim()
  if #o.trajectory ~= dim then
    cli.usage("option '--trajectory' needs %d integers for this field, got %d", dim, #o.trajectory)
  end
  local zero = true
  for _, s in ipairs(o.trajectory) do zero = zero and s == 0 end
  if zero then cli.usage("option '--trajectory' must not be all zeros") end
  if not start then
    start = {}
    for k = 1, dim do start[k] = 1 end
  end
  if #start ~= dim then cli.usage("option '--start' needs %d values for this field, got %d", dim, #start) end
  local L = c:limit(o.trajectory, o.depth, start)
  local prec = L:precision()
  local digits = o.digits or math.max(15, math.min(prec, 50))
  local ok, value = pcall(L.value, L, digits)
  if not ok then cli.fail("--digits %d: %s", digits, (tostring(value):gsub("^.-: ", "", 1))) end
  local res = {
    field = tostring(c), trajectory = o.trajectory, start = {}, depth = L:depth(),
    precision = prec, value = tostring(value),
  }
  for k, s in ipairs(start) do res.start[k] = tostring(s) end
  local rows = {
    { "field", res.field }, { "trajectory", table.concat(o.trajectory, ",") },
    { "start", table.concat(res.start, ",") }, { "depth", res.depth },
    { "precision (digits)", prec }, { "limit p/q", res.value },
  }
  if o.delta then
    res.delta = L:delta()
    rows[#rows + 1] = { "delta (blind, vs depth 2N)", res.delta }
  end
  if o.identify then
    local id = L:identify(basis)
    res.identify = { found = id.found, basis = basis, closed_form = id.closed_form, relation = id.relation,
      terms = id.terms, holds = id.holds and id.holds ~= math.huge and id.holds or nil, digits = id.digits,
      reason = id.reason }
    rows[#rows + 1] = { "identified", id.found and ("L = " .. id.closed_form) or ("not identified: " .. id.reason) }
    if id.found then
      rows[#rows + 1] = { "relation", string.format("[%s] on [%s]", table.concat(id.relation, ", "),
        table.concat(id.terms, ", ")) }
    end
  end
  if o.json ~= "-" then print(cli.table({ "quantity", "value" }, rows, 8)) end
  if o.json then cli.write_file(o.json, cli.json(res)) end
  return 0
end

return cmd
