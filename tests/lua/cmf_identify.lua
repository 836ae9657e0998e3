-- const.pslq, const.identify and Limit:identify: integer relations against
-- values built independently (exact rational series, Newton's method),
-- "not found" where there is no small relation, and every known field's
-- limit identified with its closed form (shared/reference/cmf.md section 2,
-- the relations being mpmath's).
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
if not cmf then return end -- a build without FLINT

local Q = poly.rational
local D = 50

local function rel_eq(got, want, what)
  T.eq(#got, #want, what .. ": length")
  for i = 1, #want do T.eq(got[i], want[i], what .. " [" .. i .. "]") end
end

---------------------------------------------------------------- inputs built independently
-- arctan(1/k) = sum (-1)^n / ((2n+1) k^(2n+1)), summed exactly to D + 10 digits
local function atan_inv(k)
  local s, p, n = Q(0), Q(1, k), 0
  while (2 * n + 1) * math.log(k, 10) < D + 10 do
    local term = p / Q(2 * n + 1)
    s = n % 2 == 0 and s + term or s - term
    p, n = p / Q(k * k), n + 1
  end
  return const.real(s, D + 10)
end
-- sqrt(a) by Newton's method in exact rationals (quadratic convergence)
local function sqrt_q(a)
  local x = Q(1)
  for _ = 1, 9 do x = (x + Q(a) / x) / 2 end
  return const.real(x, D + 10)
end
local pi = const.pi(D)

---------------------------------------------------------------- relations that exist
-- Machin: pi = 16 arctan(1/5) - 4 arctan(1/239)
local r = const.pslq({ pi, atan_inv(5), atan_inv(239) })
T.eq(r.found, true, "Machin found")
rel_eq(r.relation, { 1, -16, 4 }, "Machin")
assert(r.holds > 0.75 * D, "Machin holds to " .. r.holds .. " digits")
T.eq(r.digits, D, "working digits: the least accurate value's")
-- a relation that does not involve every value: Machin among four values
r = const.pslq({ pi, sqrt_q(2), atan_inv(5), atan_inv(239) })
T.eq(r.found, true, "Machin with sqrt(2) beside it")
T.eq(r.relation[2], 0, "sqrt(2) takes no part")
T.eq(r.relation[1] * -16, r.relation[3], "Machin coefficients, up to sign")
T.eq(r.relation[1] * 4, r.relation[4], "Machin coefficients, up to sign (2)")
-- the golden ratio: phi^2 = phi + 1
local phi = (1 + sqrt_q(5)) / 2
rel_eq(const.pslq({ 1, phi, phi * phi }).relation, { 1, 1, -1 }, "golden ratio")
-- sqrt(2) + sqrt(3) is a root of x^4 - 10 x^2 + 1 (mpmath's findpoly example)
local s = sqrt_q(2) + sqrt_q(3)
r = const.pslq({ 1, s, s * s, s * s * s, s * s * s * s })
T.eq(r.found, true, "sqrt2 + sqrt3: found")
local sign = r.relation[1]
rel_eq(r.relation, { sign, 0, -10 * sign, 0, sign }, "sqrt2 + sqrt3: x^4 - 10x^2 + 1 (up to sign)")
-- exact values: rationals and integers carry no limit (30 digits by default)
r = const.pslq({ Q(1, 3), Q(2, 7) })
rel_eq(r.relation, { -6, 7 }, "1/3 and 2/7 (mpmath's sign)")
T.eq(r.digits, 30, "exact values: 30 digits")

---------------------------------------------------------------- relations that do not exist
r = const.pslq({ pi, const.e(D), const.zeta(3, D) }, { maxcoeff = 100 })
T.eq(r.found, false, "pi, e, zeta(3): no small relation")
assert(r.reason:find("maxcoeff = 100", 1, true), r.reason)
assert(r.norm_bound >= 100, "the norm bound passed maxcoeff: " .. tostring(r.norm_bound))
-- sqrt2, sqrt3, sqrt5, sqrt7 are linearly independent over Q
r = const.pslq({ sqrt_q(2), sqrt_q(3), sqrt_q(5), sqrt_q(7) })
T.eq(r.found, false, "square roots of primes")
-- a value that is zero to the working precision
local s2 = sqrt_q(2)
r = const.pslq({ 1, s2, s2 * s2 - 2 }, { digits = 40 })
T.eq(r.found, false, "[1, s, s^2 - 2]")
assert(r.reason:find("value 3 is zero to the working precision", 1, true), r.reason)
-- too few digits for the relation: 355/113 agrees with pi to 7 digits only
r = const.pslq({ pi, const.real(Q(355, 113), D) }, { maxcoeff = 1000000 })
T.eq(r.found, false, "pi is not 355/113 at 50 digits")
r = const.pslq({ const.real("3.141592653589793", 16), const.real(Q(355, 113), D) }, { maxcoeff = 1000000 })
T.eq(r.found, false, "not even at 16 digits")
-- the check: a relation that PSLQ's normalised test accepts (the largest
-- value, which takes no part, hides it) but that holds to 19 digits only
r = const.pslq({ pi * 1000000, 1, -(Q(1, 2) + 1 / Q(10) ^ 19) }, { digits = 30 })
T.eq(r.found, false, "a relation holding to 19 of 30 digits is not found")
rel_eq(r.candidate, { 0, 1, 2 }, "the candidate is kept")
assert(r.reason:find("holds to only 19", 1, true), r.reason)
-- the same values at 16 digits: the relation holds to the digits available
r = const.pslq({ pi * 1000000, 1, -(Q(1, 2) + 1 / Q(10) ^ 19) }, { digits = 16 })
T.eq(r.found, true, "at 16 digits it holds")

---------------------------------------------------------------- const.identify
local e = const.e(60)
local id = const.identify(1 / (1 - e), { "e" })
T.eq(id.closed_form, "1/(1 - e)", "1/(1 - e)")
rel_eq(id.relation, { 1, -1, 0, 1 }, "[1, x, e, x e]")
rel_eq(id.terms, { "1", "x", "e", "x*e" }, "terms")
id = const.identify(const.pi(40) / 4 + 1, { "pi" })
T.eq(id.closed_form, "(4 + pi)/4", "pi/4 + 1")
-- a dependent basis entry is dropped (zeta(2) = pi^2/6)
local p40 = const.pi(60)
id = const.identify((3 - p40 * p40 / 6) / (1 + p40), { "pi", { "pi2over6", p40 * p40 / 6 }, "zeta2" })
T.eq(id.found, true, "dependent basis: found")
rel_eq(id.dropped, { "zeta(2)" }, "zeta(2) dropped")
rel_eq(id.basis, { "1", "pi", "pi2over6" }, "basis kept")
T.eq(id.closed_form, "(3 - pi2over6)/(1 + pi)", "closed form over the kept basis")
-- a rational x: every Moebius relation has numerator = x denominator, said as p/q
T.eq(const.identify(const.real(Q(-3, 7), 40), { "pi" }).closed_form, "-3/7", "-3/7 in the basis pi")
T.eq(cmf.known.var_root_cmf(1, 1, 1):limit({ 1, 1 }, 30, { 1, 1 }):identify("pi").closed_form, "-3",
  "var_root_cmf(1,1,1): the limit -3")
-- Apery's PCF: 6/zeta(3)
local apery = pcf.new("34*n^3 + 51*n^2 + 27*n + 5", "-n^6")
id = apery:limit(300):identify("zeta3")
T.eq(id.closed_form, "6/zeta(3)", "Apery's PCF")
rel_eq(id.relation, { -6, 0, 0, 1 }, "Apery's PCF relation")
-- the wrong basis finds nothing
id = const.identify(const.zeta(3, 60), { "pi", "e" })
T.eq(id.found, false, "zeta(3) in pi, e")
assert(tostring(id):find("not identified", 1, true), tostring(id))
T.raises(function() const.identify(const.pi(30), { "pj" }) end, "const.identify", "unknown constant 'pj'")
T.raises(function() const.identify(const.pi(30), { "pi" }, { digits = 40 }) end, "known to only 30")

---------------------------------------------------------------- every known field's limit
local cases = {
  { "e", { 1, 1 }, { 0, 0 }, { "e" }, "1/(1 - e)", { 1, -1, 0, 1 } },
  { "pi", { 1, 1 }, { 1, 0 }, { "pi" }, "(2 - pi)/2", { -2, 2, 1, 0 } },
  { "symmetric_pi", { 1, 1 }, { 1, 1 }, { "pi" }, "(2*pi - 6)/(4 - pi)", { 6, 4, -2, -1 } },
  { "zeta3", { 1, 1 }, { 1, 1 }, { "zeta3" }, "(1 - zeta(3))/zeta(3)", { 1, 0, -1, -1 } },
  { "zeta2", { 1, 1 }, { 1, 1 }, { "zeta2" }, "(2 - 2*zeta(2))/zeta(2)", { -2, 0, 2, 1 } },
  { "log", { 1, 1 }, { 1, 1 }, { "log2" }, "(1 - log(2))/log(2)", { 1, 0, -1, -1 } },
  { "hypergeometric_2F1", { 1, 0, 1 }, { 1, 1, 1 }, { "pi" }, "(51*pi - 160)/(16 - 5*pi)", { 160, 16, -51, -5 } },
}
for _, c in ipairs(cases) do
  local L = cmf.known[c[1]]():limit(c[2], 100, c[3])
  local res = L:identify(c[4])
  T.eq(res.found, true, c[1] .. " identified")
  T.eq(res.closed_form, c[5], c[1] .. " closed form")
  rel_eq(res.relation, c[6], c[1] .. " relation (mpmath's)")
  T.eq(res.depth, 100, c[1] .. " depth")
  -- the closed form, evaluated from its coefficients, is the limit to the digits it has
  local digits = math.min(L:precision() - 2, 80)
  local vals = { const.real(1, 120) }
  local k = c[4][1]
  vals[2] = k == "zeta3" and const.zeta(3, 120) or k == "zeta2" and const.zeta(2, 120) or const[k](120)
  local num, den = const.real(0, 120), const.real(0, 120)
  for i = 1, 2 do
    num = num + res.numerator[i] * vals[i]
    den = den + res.denominator[i] * vals[i]
  end
  local d = num / den - L:value()
  if d < 0 then d = -d end
  assert(d < const.real("1e-" .. digits), c[1] .. ": the closed form differs from the limit by " .. d:tostring(5))
end
-- the walk too short for 14 digits is refused, plainly
local short = cmf.known.zeta3():limit({ 1, 1 }, 3, { 1, 1 }):identify("zeta3")
T.eq(short.found, false, "depth 3")
assert(short.reason:find("walk deeper", 1, true), short.reason)
-- a limit and a basis that do not match
local L = cmf.known.zeta3():limit({ 1, 1 }, 60, { 1, 1 })
T.eq(L:identify{ "pi" }.found, false, "zeta3's limit in terms of pi")
T.raises(function() L:identify{ "zeta" } end, "Limit:identify", "unknown constant 'zeta'")
