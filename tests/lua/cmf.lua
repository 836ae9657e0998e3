-- poly, cmf, pcf, const: exact arithmetic, conservativity, walks and limits
-- against closed forms (shared/reference/cmf.md section 2).
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
if not cmf then return end -- a build without FLINT

local Q = poly.rational

---------------------------------------------------------------- poly and Rational
local p = poly.parse("x^3 + 2*x^2*y - 7/2")
T.eq(tostring(p), "x^3 + 2*x^2*y - 7/2", "tostring")
T.eq(p:eval{x = 1, y = 2}, Q("3/2"), "eval")
T.eq(p:eval{x = "1/2", y = -1}, Q(1, 8) - Q(1, 2) - Q(7, 2), "eval at rationals")
local x, y = poly.var("x", "y")
T.eq(x^3 + 2 * x^2 * y - Q(7, 2), p, "built from variables")
T.eq(poly.parse("(x+1)^3"), x^3 + 3 * x^2 + 3 * x + 1, "binomial")
T.eq((x^2 - 1) / (x - 1), x + 1, "cancellation")
T.eq(tostring((x + 1) / (x * y)), "(x + 1)/(x*y)", "rational function text")
T.eq(poly.parse(tostring((x + 1) / (x * y))), (x + 1) / (x * y), "round trip")
T.eq(p:subs{x = y + 1}, poly.parse("(y+1)^3 + 2*(y+1)^2*y - 7/2"), "subs")
T.eq(p:shift{x = 1}, p:subs{x = x + 1}, "shift")
T.eq((1 / x):subs{x = x / y}, y / x, "rational substitution")
T.eq(Q(1, 3) + Q(1, 6), Q(1, 2), "rational sum")
T.eq(tostring(Q("-12.375")), "-99/8", "decimal")
T.eq(tostring(Q(2)^100), "1267650600228229401496703205376", "big integer")
T.raises(function() poly.parse("x^3 + * 2") end, "poly.parse", "position 7")
T.raises(function() poly.parse("x/(y-y)") end, "division by zero")
T.raises(function() return p:eval{x = 1} end, "no value for variable 'y'")

---------------------------------------------------------------- constants
T.eq(tostring(const.pi(30)), "3.14159265358979323846264338328", "pi")
T.eq(tostring(const.zeta(3, 20)), "1.2020569031595942854", "zeta(3)")
T.eq(tostring(const.log2(20)), "0.69314718055994530942", "log 2")
T.eq(tostring(const.e(20)), "2.7182818284590452354", "e")

-- |a - b| < 10^-digits for Reals
local function close(a, b, digits, what)
  local d = a - b
  if d < 0 then d = -d end
  if not (d < const.real("1e-" .. digits)) then
    error(string.format("%s: %s vs %s differ by %s (want < 1e-%d)", what, tostring(a), tostring(b), d:tostring(5), digits), 2)
  end
end

---------------------------------------------------------------- conservativity
local known = { "e", "pi", "symmetric_pi", "zeta3", "zeta2", "log" }
for _, name in ipairs(known) do
  local c = cmf.known[name]()
  T.eq(c:is_conservative(), true, name .. " is conservative")
end
local fixture = { { "x", "x+17" }, { "x*y", "3*y-x+5" } }
local bad = cmf.new{ axes = { "x", "y" }, M = { x = fixture, y = fixture }, validate = false }
local ok, pair = bad:is_conservative()
T.eq(ok, false, "fixture")
T.eq(pair, "x,y", "failing pair")
T.eq(bad:is_conservative{ probabilistic = true }, false, "fixture, modular check")
-- zeta3 with 1 added to any one entry
local z = cmf.known.zeta3()
for _, ax in ipairs{ "x", "y" } do
  for i = 1, 2 do
    for j = 1, 2 do
      local M = { x = z:M("x"), y = z:M("y") }
      M[ax][i][j] = M[ax][i][j] + 1
      local c = cmf.new{ axes = { "x", "y" }, M = M, validate = false }
      T.eq(c:is_conservative(), false, "zeta3 + 1 at M_" .. ax .. "[" .. i .. "][" .. j .. "]")
    end
  end
end
T.raises(function() cmf.new{ axes = { "x", "y" }, M = { x = fixture, y = fixture } } end, "not conservative")

---------------------------------------------------------------- walks
local function mat_eq(A, B, what)
  for i = 1, #A do for j = 1, #A do T.eq(A[i][j], B[i][j], what .. " [" .. i .. "][" .. j .. "]") end end
end
local function mat_mul(A, B) return T.mat_mul(A, B, Q(0)) end
-- path independence: random monotone paths from (1,1) to (5,4)
local W0 = z:work({ 1, 1 }, { 5, 4 })
local seed = 12345
for _ = 1, 6 do
  local steps = {}
  for _ = 1, 4 do steps[#steps + 1] = "x" end
  for _ = 1, 3 do steps[#steps + 1] = "y" end
  for k = #steps, 2, -1 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    local r = seed % k + 1
    steps[k], steps[r] = steps[r], steps[k]
  end
  mat_eq(z:work({ 1, 1 }, { 5, 4 }, steps), W0, "path " .. table.concat(steps))
end
-- a negative step cancels a positive one
local I = mat_mul(z:work({ 2, 3 }, { 3, 3 }), z:work({ 3, 3 }, { 2, 3 }))
mat_eq(I, { { Q(1), Q(0) }, { Q(0), Q(1) } }, "forward then back")
-- walk(k e_x, 1) = walk(e_x, k), and the trajectory walk equals the work
mat_eq(z:walk({ 5, 0 }, 1, { 1, 2 }), z:walk({ 1, 0 }, 5, { 1, 2 }), "walk(5 e_x, 1)")
mat_eq(z:walk({ 1, 1 }, 3, { 1, 1 }), z:work({ 1, 1 }, { 4, 4 }), "walk = work")
-- product tree = sequential product, exactly (also with several depths)
for _, name in ipairs{ "zeta3", "pi", "e" } do
  local c = cmf.known[name]()
  local start = name == "pi" and { 1, 0 } or { 1, 1 }
  mat_eq(c:walk({ 1, 1 }, 1500, start), c:walk({ 1, 1 }, 1500, start, { method = "sequential" }), name .. " tree")
end
local Ws = z:walk({ 2, 1 }, { 10, 300, 301 }, { 1, 1 })
mat_eq(Ws[2], z:walk({ 2, 1 }, 300, { 1, 1 }), "depth list")

---------------------------------------------------------------- limits against closed forms
local D = 60
local pi, e, z3 = const.pi(D), const.e(D), const.zeta(3, D)
local cases = {
  { "e", { 1, 1 }, { 0, 0 }, 1 / (1 - e) },
  { "e", { 1, 2 }, { 0, 0 }, 1 / (1 - e) },
  { "pi", { 1, 1 }, { 1, 0 }, (2 - pi) / 2 },
  { "pi", { 2, 1 }, { 1, 0 }, (2 - pi) / 2 },
  { "symmetric_pi", { 1, 1 }, { 1, 1 }, (2 * pi - 6) / (4 - pi) },
  { "zeta3", { 1, 1 }, { 1, 1 }, (1 - z3) / z3 },
  { "zeta3", { 2, 1 }, { 1, 1 }, (1 - z3) / z3 },
  { "log", { 1, 1 }, { 1, 1 }, 1 / const.log2(D) - 1 },
}
for _, cs in ipairs(cases) do
  local L = cmf.known[cs[1]]():limit(cs[2], 200, cs[3])
  local prec = L:precision()
  assert(prec >= 20, cs[1] .. ": precision " .. prec)
  close(L:value(), cs[4], math.min(prec - 1, D - 5), cs[1] .. " along " .. table.concat(cs[2], ","))
end
-- zeta(2): the limit is 2/zeta(2) - 2
local Lz2 = cmf.known.zeta2():limit({ 1, 1 }, 300, { 1, 1 })
close(Lz2:value(), 2 / const.zeta(2, D) - 2, math.min(Lz2:precision() - 1, 50), "zeta2")
-- precision is the reference library's rule, and value() refuses more digits than it supports
local L = z:limit({ 1, 1 }, 100, { 1, 1 })
local p1, q1 = L:pq()
T.eq(p1 / q1, L:rational(), "pq and rational")
T.raises(function() L:value(100000) end, "Limit:value", "only good to", "walk deeper")

---------------------------------------------------------------- PCFs
local four_over_pi = pcf.new("2*n+1", "n^2")
local expect = { "4/3", "24/19", "51/40", "555/436", "205/161" }
for N = 1, 5 do T.eq(four_over_pi:limit(N):rational(), Q(expect[N]), "PCF(2n+1, n^2) depth " .. N) end
local apery = z:to_pcf({ 1, 1 }, { 0, 0 })
T.eq(apery:a(), poly.parse("34*n^3 + 51*n^2 + 27*n + 5"), "Apery a(n)")
T.eq(apery:b(), poly.parse("-n^6"), "Apery b(n)")
local La = apery:limit(200)
close(La:value(), 6 / z3, math.min(La:precision() - 1, D - 5), "Apery PCF -> 6/zeta(3)")
-- delta of Apery's PCF at depth 2000 (needs L to ~6200 digits), and blind
local z3big = const.zeta(3, 6500)
local delta = apery:delta(2000, 6 / z3big)
assert(delta > 0.07 and delta < 0.1, "Apery delta at depth 2000: " .. delta)
local blind = apery:limit(1000):delta()
assert(blind > 0.06 and blind < 0.1, "blind delta: " .. blind)
T.raises(function() apery:delta(2000, 6 / const.zeta(3, 3000)) end, "give L to at least")
