-- The zoo of conservative matrix fields: every known field of cmf.known,
-- whether it is conservative (exactly, and on a lattice box), its limit at
-- a depth, the digits that depth supports, and the closed form PSLQ
-- identifies (Limit:identify).
--   fieldlab examples/cmf_zoo.lua [depth]      (default 300; "small": 60)
local depth = (arg and arg[1] == "small") and 60 or tonumber(arg and arg[1]) or 300

-- name, the field, trajectory, start, the constants of its limit (nil: unknown)
local zoo = {
  { "e", cmf.known.e(), { 1, 1 }, { 0, 0 }, { "e" } },
  { "pi", cmf.known.pi(), { 1, 1 }, { 1, 0 }, { "pi" } },
  { "symmetric_pi", cmf.known.symmetric_pi(), { 1, 1 }, { 1, 1 }, { "pi" } },
  { "zeta3", cmf.known.zeta3(), { 1, 1 }, { 1, 1 }, { "zeta3" } },
  { "zeta2", cmf.known.zeta2(), { 1, 1 }, { 1, 1 }, { "zeta2" } },
  { "log", cmf.known.log(), { 1, 1 }, { 1, 1 }, { "log2" } },
  { "cmf1(0,2,0,1)", cmf.known.cmf1(0, 2, 0, 1), { 1, 1 }, { 1, 1 }, { "log2", { "log3", const.real(0, 20) } } },
  { "cmf3_1(0,1)", cmf.known.cmf3_1(0, 1), { 1, 1 }, { 1, 1 }, { "zeta3" } },
  { "cmf3_2(1,1)", cmf.known.cmf3_2(1, 1), { 1, 1 }, { 1, 1 }, { "zeta3" } },
  { "var_root_cmf(1,1,1)", cmf.known.var_root_cmf(1, 1, 1), { 1, 1 }, { 1, 1 }, { "pi" } },
  { "hypergeometric_2F1", cmf.known.hypergeometric_2F1(), { 1, 0, 1 }, { 1, 1, 1 }, { "pi" } },
  { "pfq(2,1,-1)", cmf.pfq(2, 1, -1), { 1, 1, 2 }, { 1, 1, 2 }, { "log2" } },
}

-- log 3 for the basis of cmf1(0,2,0,1), whose limit is -2 + 1/log(3/2):
-- log 3 = log 2 + log(3/2), log(3/2) = 2 atanh(1/5) summed exactly
do
  local Q, acc, pw = poly.rational, poly.rational(0), poly.rational(1, 5)
  for k = 0, 400 do
    acc = acc + pw / Q(2 * k + 1)
    pw = pw / 25
  end
  zoo[7][5][2][2] = const.real(2 * acc, 500) + const.log2(500)
end

local function pad(s, n) s = tostring(s); return s .. string.rep(" ", n - #s) end
print(string.format("depth %d; conservative: exact identity / plaquettes on the box 1..3 per axis\n", depth))
print(pad("field", 21) .. pad("rank", 5) .. pad("conservative", 14) .. pad("digits", 8) .. pad("limit", 24) .. "identified")
for _, z in ipairs(zoo) do
  local name, c, traj, start, basis = z[1], z[2], z[3], z[4], z[5]
  local exact = c:is_conservative()
  local box = check.matrix_field(c, { box = { 1, 3 } })
  local L = c:limit(traj, depth, start)
  local prec = L:precision()
  local value = prec >= 1 and L:value(math.min(math.max(prec, 15), 20)):tostring(18) or "-"
  local id = L:identify(basis)
  print(pad(name, 21) .. pad(c:rank(), 5) ..
    pad(string.format("%s/%s", exact and "yes" or "no", box.conservative and "yes" or "no"), 14) ..
    pad(prec, 8) .. pad(value, 24) .. (id.found and ("L = " .. id.closed_form) or "-"))
end
print("\n'-': no relation with coefficients below 1000 in that basis (the constants of those limits are not known here)")
