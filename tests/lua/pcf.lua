-- pcf: inflation and deflation (ramanujantools' convention, shared/reference
-- cmf.md section 1.1), PCF:precision, and const.gompertz against the
-- continued fraction 1/(2 - 1/(4 - 4/(6 - 9/(8 - ...)))) and OEIS A073003.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
if not pcf then return end -- a build without FLINT

local Q = poly.rational
local n = poly.var("n")

-- |a - b| < 10^-digits for Reals
local function close(a, b, digits, what)
  local d = a - b
  if d < 0 then d = -d end
  if not (d < const.real("1e-" .. digits)) then
    error(string.format("%s: %s vs %s differ by %s (want < 1e-%d)", what, tostring(a), tostring(b), d:tostring(5),
      digits), 2)
  end
end

---------------------------------------------------------------- inflation: the definition
-- upstream pcf_test.py fixtures: a -> c a, b -> c(n-1) c(n) b
local a0, b0 = n + 4, n ^ 2
local base = pcf.new(a0, b0)
local c = n ^ 7 + 5 * n - 3
local cm1 = c:subs{ n = n - 1 }
local inf = base:inflate(c)
T.eq(inf:a(), c * a0, "inflate a = c a")
T.eq(inf:b(), cm1 * c * b0, "inflate b = c(n-1) c b")
T.eq(inf:b() == c * c * b0, false, "the index convention is c(n-1) c(n), not c(n)^2")
local back = inf:deflate(c)
T.eq(back:a(), a0, "deflate undoes inflate (a)")
T.eq(back:b(), b0, "deflate undoes inflate (b)")
-- constants, given as numbers, strings or Rationals
T.eq(base:inflate(3):a(), 3 * a0, "inflate by 3 (a)")
T.eq(base:inflate("3"):b(), 9 * b0, "inflate by 3 (b)")
local three = pcf.new(3 * a0, 9 * b0):deflate(3)
T.eq(three:a(), a0, "deflate by 3 (a)")
T.eq(three:b(), b0, "deflate by 3 (b)")
local half = base:inflate(Q(1, 2))
T.eq(half:b(), b0 / 4, "inflate by 1/2")
T.eq(half:deflate(Q(1, 2)):a(), a0, "deflate by 1/2")

---------------------------------------------------------------- Apery: the companion form of the zeta(3) diagonal
local apery = pcf.new("34*n^3 + 51*n^2 + 27*n + 5", "-n^6")
-- the companion of the trajectory matrix D(n) of zeta3 along (1,1) from
-- (0,0), computed here from D itself (cmf.md 1.6): a = m00(n+1) +
-- m11(n) m10(n+1)/m10(n), b = -det D(n) m10(n+1)/m10(n)
local D = cmf.known.zeta3():trajectory_matrix({ 1, 1 }, { 0, 0 })
local function sh(p) return p:subs{ n = n + 1 } end
local ratio = sh(D[2][1]) / D[2][1]
local ca = sh(D[1][1]) + D[2][2] * ratio
local cb = -(D[1][1] * D[2][2] - D[1][2] * D[2][1]) * ratio
T.eq(ca:is_polynomial() and cb:is_polynomial(), true, "the companion of D is polynomial")
-- and the closed form of cmf.md 2.4
T.eq(ca, poly.parse("(n+2)^3*(2*n+1)*(17*n^2+17*n+5)"), "companion a(n)")
T.eq(cb, poly.parse("-n^6*(n+1)^3*(n+2)^3"), "companion b(n)")
local companion = apery:inflate("(n+2)^3")
T.eq(companion:a(), ca, "Apery inflated by (n+2)^3: a")
T.eq(companion:b(), cb, "Apery inflated by (n+2)^3: b")
local again = companion:deflate((n + 2) ^ 3)
T.eq(again:a(), apery:a(), "deflated again: a")
T.eq(again:b(), apery:b(), "deflated again: b")
local all = pcf.new(ca, cb):deflate_all()
T.eq(all:a(), apery:a(), "deflate_all of the companion: a")
T.eq(all:b(), apery:b(), "deflate_all of the companion: b")

---------------------------------------------------------------- limits under inflation
-- a(0) is inflated too, so each convergent p/q becomes c(0) p/q exactly
for _, N in ipairs{ 1, 2, 3, 10, 57, 300 } do
  T.eq(companion:limit(N):rational(), 8 * apery:limit(N):rational(), "companion = 8 Apery at depth " .. N)
  T.eq(companion:deflate("(n+2)^3"):limit(N):rational(), apery:limit(N):rational(), "deflated limit at depth " .. N)
end
-- with c(0) = 1 the convergents, hence the limit, are unchanged
local c1 = poly.parse("n^2 + 3*n + 1")
local apery1 = apery:inflate(c1)
for _, N in ipairs{ 1, 5, 200 } do
  T.eq(apery1:limit(N):rational(), apery:limit(N):rational(), "c(0) = 1: same convergent at depth " .. N)
end
-- and as values: the companion converges to 48/zeta(3)
local Lc = companion:limit(300)
local z3 = const.zeta(3, 80)
close(Lc:value(), 48 / z3, math.min(Lc:precision() - 2, 70), "companion -> 48/zeta(3)")
close(apery1:limit(300):value(), 6 / z3, 70, "Apery inflated by n^2+3n+1 -> 6/zeta(3)")
-- the convergents' steps scale by c(0) too: precision is unchanged for
-- c(0) = 1 and drops by floor or ceil of log10(8) for the companion
T.eq(apery1:precision(300), apery:precision(300), "precision unchanged by inflation with c(0) = 1")
local dp = apery:precision(300) - companion:precision(300)
assert(dp == 0 or dp == 1, "precision of the companion: off by " .. dp)

---------------------------------------------------------------- deflation must be exact
T.raises(function() apery:deflate("n+1") end, "PCF:deflate", "c(n) = n + 1 does not divide a(n)")
local pn = pcf.new("n*(n+1)", "n^2*(n+1)")
T.eq(tostring(pn:deflate("n+1")), "PCF(n, n)", "divides where it should")
T.raises(function() pn:deflate("n") end, "c(n) c(n-1) = (n)*(n - 1) = n^2 - n", "does not divide b(n) = n^3 + n^2")
T.raises(function() companion:deflate("(n+2)^4") end, "does not divide a(n)")
T.raises(function() apery:deflate("1/n") end, "c(n) must be a polynomial in n")
T.raises(function() apery:inflate(0) end, "PCF:inflate", "c(n) must not be zero")
T.raises(function() apery:inflate("x + 1") end, "function of n only")

---------------------------------------------------------------- PCF:precision
-- the rule of Limit:precision, checked here with exact rationals:
-- 10^-(P+1) < |p_N/q_N - p_(N-1)/q_(N-1)| <= 10^-P
local function check_precision(p, N, what)
  local P = p:precision(N)
  T.eq(P, p:limit(N):precision(), what .. ": shortcut of Limit:precision")
  local d = p:limit(N):rational() - p:limit(N - 1):rational()
  if d < Q(0) then d = -d end
  assert(d <= 1 / Q(10) ^ P and d > 1 / Q(10) ^ (P + 1), what .. ": precision " .. P .. " does not bound the step")
  return P
end
-- golden ratio: ramanujantools' test_precision_phi (427 at depth 2^10 + 1)
T.eq(check_precision(pcf.new(1, 1), 1025, "PCF(1, 1)"), 427, "PCF(1, 1) precision at 1025")
check_precision(apery, 100, "Apery")
check_precision(pcf.new("2*n+1", "n^2"), 400, "4/pi")
T.eq(apery:precision(100, { method = "sequential" }), apery:precision(100), "precision with options")
T.raises(function() apery:precision(0) end, "depth must be at least 1")

---------------------------------------------------------------- const.gompertz
-- OEIS A073003 (also mpmath's -e*ei(-1) and e*e1(1), which agree to 60 digits)
local A073003 = "0.59634736232319407434107849936927937607417786015254878"
local G = const.gompertz(60)
T.eq(G:digits(), 60, "gompertz digits")
close(G, const.real(A073003), 52, "gompertz against OEIS A073003")
T.eq(tostring(const.gompertz(40)), "0.5963473623231940743410784993692793760742", "gompertz to 40 digits")
T.eq(tostring(const.gompertz()), "0.596347362323194074341078499369", "gompertz default 30 digits")
-- an independent route: 1/G = 2 - 1/(4 - 4/(6 - 9/(8 - ...))) = PCF(2n+2, -n^2), in exact rationals
local Lg = pcf.new("2*n+2", "-n^2"):limit(4000)
local pg = Lg:precision()
assert(pg >= 50, "PCF(2n+2, -n^2) at depth 4000: precision " .. pg)
close(1 / Lg:value(), G, math.min(pg - 2, 58), "gompertz against its continued fraction")
-- and summed from the bottom in Reals: 1/G = 2 - 1^2/(4 - 2^2/(6 - ...)), truncated at depth 3000
local t = const.real(2 * 3001 + 2, 80)
for k = 3000, 0, -1 do t = (2 * k + 2) - (k + 1) * (k + 1) / t end
close(1 / t, G, 58, "gompertz against the continued fraction in Reals")
-- a basis constant for identification
local r = const.identify((1 + 2 * const.gompertz(50)) / (3 - const.gompertz(50)), { "gompertz" })
T.eq(r.found, true, "identify in the gompertz basis")
T.eq(r.closed_form, "(1 + 2*gompertz)/(3 - gompertz)", "closed form with gompertz")
