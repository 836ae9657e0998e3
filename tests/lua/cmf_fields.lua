-- Transformations and constructions of conservative matrix fields: dual and
-- coboundary (exact walk relations), parameters and substitution, the
-- f, fbar and pFq constructions and the known families against the
-- closed forms of shared/reference/cmf.md (sections 1.6, 1.7, 2.4-2.6), and
-- check.matrix_field.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
if not cmf then return end -- a build without FLINT

local Q = poly.rational
local x, y = poly.var("x", "y")

local ZERO = poly.parse("0")
local function mat_eq(A, B, what)
  T.eq(#A, #B, what .. ": size")
  for i = 1, #A do
    for j = 1, #A do
      local a, b = A[i][j], B[i][j]
      if poly.is_poly(a) or poly.is_poly(b) then a, b = ZERO + a, ZERO + b end
      T.eq(a, b, what .. " [" .. i .. "][" .. j .. "]")
    end
  end
end
local function mat_mul(A, B) return T.mat_mul(A, B, Q(0)) end
-- the inverse of a 2x2 matrix of Rationals (by the adjugate)
local function inv2(A)
  local d = A[1][1] * A[2][2] - A[1][2] * A[2][1]
  return { { A[2][2] / d, -A[1][2] / d }, { -A[2][1] / d, A[1][1] / d } }
end
local function transpose(A)
  local B = {}
  for i = 1, #A do
    B[i] = {}
    for j = 1, #A do B[i][j] = A[j][i] end
  end
  return B
end
-- a matrix of Poly values at a point (names -> rationals)
local function at(M, pt)
  local R = {}
  for i = 1, #M do
    R[i] = {}
    for j = 1, #M do R[i][j] = (M[i][j] + poly.parse("0")):eval(pt) end
  end
  return R
end

local starts = { e = { 0, 0 }, pi = { 1, 0 }, symmetric_pi = { 1, 1 }, zeta3 = { 1, 1 }, zeta2 = { 1, 1 }, log = { 1, 1 } }
local names = { "e", "pi", "symmetric_pi", "zeta3", "zeta2", "log" }

---------------------------------------------------------------- dual
for _, name in ipairs(names) do
  local c = cmf.known[name]()
  local d = c:dual()
  T.eq(d:is_conservative(), true, name .. ": the dual is conservative")
  -- the walk of the dual is (W^-1)^T, exactly
  local P, Q2 = { starts[name][1] + 1, starts[name][2] + 1 }, { starts[name][1] + 4, starts[name][2] + 3 }
  mat_eq(d:work(P, Q2), transpose(inv2(c:work(P, Q2))), name .. ": dual walk")
  -- the dual of the dual is the field
  local dd = d:dual()
  for _, ax in ipairs{ "x", "y" } do mat_eq(dd:M(ax), c:M(ax), name .. ": dual of the dual, M_" .. ax) end
end

---------------------------------------------------------------- coboundary
local U = { { 1, x }, { y, x * y + 2 } } -- det = 2, invertible everywhere
for _, name in ipairs(names) do
  local c = cmf.known[name]()
  local cb = c:coboundary(U)
  T.eq(cb:is_conservative(), true, name .. ": the coboundary is conservative")
  local P, Q2 = { starts[name][1] + 1, starts[name][2] + 2 }, { starts[name][1] + 5, starts[name][2] + 4 }
  local UP, UQ = at(U, { x = P[1], y = P[2] }), at(U, { x = Q2[1], y = Q2[2] })
  -- U(P)^-1 W U(Q), the walk between the ends
  mat_eq(cb:work(P, Q2), mat_mul(mat_mul(inv2(UP), c:work(P, Q2)), UQ), name .. ": coboundary walk")
end
-- U given as a function of the axis variables; the limits are then related
-- by the Moebius map of U at the end (U constant: the same map at every depth)
local e = cmf.known.e()
local cb = e:coboundary(function() return { { 2, 1 }, { 1, 1 } } end)
local W, Wc = e:walk({ 1, 1 }, 40, { 0, 0 }), cb:walk({ 1, 1 }, 40, { 0, 0 })
local Ui = inv2({ { Q(2), Q(1) }, { Q(1), Q(1) } })
mat_eq(Wc, mat_mul(mat_mul(Ui, W), { { Q(2), Q(1) }, { Q(1), Q(1) } }), "e: constant coboundary walk")
T.raises(function() e:coboundary{ { 1, x }, { 1, x } } end, "CMF:coboundary", "U is singular")
T.raises(function() e:coboundary{ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } } end, "U is 3x3")

---------------------------------------------------------------- parameters
local p = cmf.new{ axes = { "x", "y" }, params = { "a", "b" }, validate = false, M = {
  x = { { 0, "a*x^2" }, { 1, "a*(x+y) - (x-y+1)" } },
  y = { { "x-y", "a*x^2" }, { 1, "a*(x+y)" } } } }
T.eq(table.concat(p:params(), ","), "a,b", "declared parameters, unused b kept")
T.eq(p:is_conservative(), true, "symbolic a: conservative")
T.raises(function() p:walk({ 1, 1 }, 5, { 1, 1 }) end, "parameter 'a'", "substitute")
local p1 = p:subs{ a = 1 }
T.eq(table.concat(p1:params(), ","), "b", "a substituted, b left")
local lg = cmf.known.log()
for _, ax in ipairs{ "x", "y" } do mat_eq(p1:M(ax), lg:M(ax), "a = 1 is the log field, M_" .. ax) end
-- b, declared but used by no entry, stops neither walks nor the plaquette test
mat_eq(p1:walk({ 1, 1 }, 20, { 1, 1 }), lg:walk({ 1, 1 }, 20, { 1, 1 }), "a = 1: the log field's walk")
T.eq(check.matrix_field(p1, { box = { 1, 3 } }).conservative, true, "a = 1: the plaquette test")
T.raises(function() p:subs{ x = 1 } end, "CMF:subs", "'x' is an axis")
T.raises(function() p:subs{ c = 1 } end, "'c' is not a parameter", "parameters: a, b")
T.raises(function() cmf.new{ axes = { "x" }, params = { "a" }, M = { x = { { "a", "q" }, { 0, 1 } } } } end,
  "M_x[1][2] uses 'q'", "neither an axis nor a declared parameter")

---------------------------------------------------------------- f, fbar
local f, fbar = "x^3 + 2*x^2*y + 2*x*y^2 + y^3", "-x^3 + 2*x^2*y - 2*x*y^2 + y^3"
local ff = cmf.ffbar(f, fbar)
T.eq(ff:is_conservative(), true, "FFbar(zeta3) is conservative")
T.eq(ff:M("x")[1][2], poly.parse("-x^6"), "b(x) = -x^6")
T.eq(ff:M("x")[2][2], poly.parse("x^3 + (x+1)^3 + 2*y*(y-1)*(2*x+1)"), "a(x, y)")
-- the library's zeta3 is ((x+1)^3/x^3) U^-1 M_X U(x+1) and U^-1 M_Y U, U = diag(1, x^-3)
local z = cmf.known.zeta3()
local g = ff:coboundary{ { 1, 0 }, { 0, x ^ -3 } }
local s = (x + 1) ^ 3 / x ^ 3
local gx = g:M("x")
for i = 1, 2 do for j = 1, 2 do gx[i][j] = gx[i][j] * s end end
mat_eq(gx, z:M("x"), "zeta3 M_x = ((x+1)^3/x^3) (coboundary of FFbar)")
mat_eq(g:M("y"), z:M("y"), "zeta3 M_y = coboundary of FFbar")
T.raises(function() cmf.ffbar("x", "y") end, "cmf.ffbar", "linear condition", "it is 2")
T.raises(function() cmf.ffbar("x + y", "x - y + (x-y)^2") end, "cmf.ffbar", "quadratic condition")

---------------------------------------------------------------- the families
local fams = { "cmf1", "cmf2", "cmf3_1", "cmf3_2", "cmf3_3", "var_root_cmf" }
for _, name in ipairs(fams) do
  local c = cmf.known[name]()
  T.eq(c:is_conservative(), true, name .. " (symbolic parameters) is conservative")
  assert(#c:params() >= 2, name .. " has parameters")
end
-- cmf1 at c = (0, 1, 0, 1) is the log field, given or substituted
for _, c in ipairs{ cmf.known.cmf1(0, 1, 0, 1), cmf.known.cmf1():subs{ c0 = 0, c1 = 1, c2 = 0, c3 = 1 } } do
  for _, ax in ipairs{ "x", "y" } do mat_eq(c:M(ax), lg:M(ax), "cmf1(0,1,0,1) = log, M_" .. ax) end
end
-- cmf2 at c = (0, 0, 0, 1) is the zeta(2) field
local c2 = cmf.known.cmf2(0, 0, 0, 1)
for _, ax in ipairs{ "x", "y" } do mat_eq(c2:M(ax), cmf.known.zeta2():M(ax), "cmf2(0,0,0,1) = zeta2, M_" .. ax) end
-- log(a, b): -a + b/log(1 + b/a), here a = 2, b = 1: -2 + 1/log(3/2)
local L = cmf.known.cmf1(0, 2, 0, 1):limit({ 1, 1 }, 300, { 1, 1 })
local l32 = const.real(0, 60)
do -- log(3/2) = 2 atanh(1/5) = 2 sum 1/((2k+1) 5^(2k+1)), exactly
  local acc, pw = Q(0), Q(1, 5)
  for k = 0, 50 do
    acc = acc + pw / Q(2 * k + 1)
    pw = pw / 25
  end
  l32 = const.real(2 * acc, 60)
end
local dv = L:value() - (-2 + 1 / l32)
if dv < 0 then dv = -dv end
assert(L:precision() > 40 and dv < const.real("1e-40"), "cmf1(0,2,0,1): -2 + 1/log(3/2), off by " .. dv:tostring(4))

---------------------------------------------------------------- hypergeometric fields
local h = cmf.known.hypergeometric_2F1()
T.eq(h:is_conservative(), true, "hypergeometric_2F1 is conservative")
T.eq(h:limit({ 1, 0, 1 }, 100, { 1, 1, 1 }):value(31):tostring(31), "0.7575257109807534079063285553594",
  "2F1 field along (1,0,1) from (1,1,1), depth 100")
local h3 = cmf.known.hypergeometric_3F2()
T.eq(h3:rank(), 3, "3F2 rank")
T.eq(table.concat(h3:params(), ","), "z", "3F2 parameter z")
T.eq(h3:is_conservative(), true, "hypergeometric_3F2 (symbolic z) is conservative")
T.eq(cmf.known.hypergeometric_3F2(-1):is_conservative(), true, "hypergeometric_3F2(-1) is conservative")

-- pFq: conservative, with the ranks of the reference
local ranks = { { 1, 1, nil, 2 }, { 1, 2, nil, 3 }, { 2, 1, nil, 2 }, { 2, 1, -1, 2 }, { 2, 2, -1, 3 }, { 3, 2, -1, 3 },
  { 3, 2, 1, 2 } }
for _, rk in ipairs(ranks) do
  local c = cmf.pfq(rk[1], rk[2], rk[3])
  local what = string.format("pFq(%d,%d,%s)", rk[1], rk[2], tostring(rk[3] or "z"))
  T.eq(c:rank(), rk[4], what .. " rank")
  T.eq(c:dim(), rk[1] + rk[2], what .. " axes")
  T.eq(c:is_conservative(), true, what .. " is conservative")
end
-- pFq(2,1): the matrices of the reference (pfq_test.py::test_2F1)
local x0, x1, y0, zz = poly.var("x0", "x1", "y0", "z")
local P21 = cmf.pfq(2, 1)
local D = (y0 - x0) * (y0 - x1)
mat_eq(P21:M("x0"), { { 1, -x1 * zz / (zz - 1) }, { 1 / x0, 1 - (x0 * zz + x1 * zz - y0 + 1) / (x0 * (zz - 1)) } },
  "pFq(2,1) M_x0")
mat_eq(P21:M("x1"), { { 1, -x0 * zz / (zz - 1) }, { 1 / x1, 1 - (x0 * zz + x1 * zz - y0 + 1) / (x1 * (zz - 1)) } },
  "pFq(2,1) M_x1")
mat_eq(P21:M("y0"), { { y0 * (y0 - x0 - x1) / D, x0 * x1 * y0 / D },
  { y0 * (1 - zz) / (zz * D), y0 * y0 * (zz - 1) / (zz * D) } }, "pFq(2,1) M_y0")
-- and they move the state (F, theta F) of 2F1(a, b; c; 1/2), summed as a series
local function state(a, b, c, terms)
  local F, TF, t = Q(0), Q(0), Q(1)
  for n = 0, terms do
    F, TF = F + t, TF + n * t
    t = t * (a + n) * (b + n) / ((c + n) * (n + 1)) / 2
  end
  return { const.real(F, 50), const.real(TF, 50) }
end
local half = P21:subs{ z = Q(1, 2) }
local v = state(1, 1, 3, 200)
for _, stp in ipairs{ { "x0", 2, 1, 3 }, { "x1", 1, 2, 3 }, { "y0", 1, 1, 4 } } do
  local M = half:work({ 1, 1, 3 }, { stp[2], stp[3], stp[4] })
  local w = state(stp[2], stp[3], stp[4], 200)
  for j = 1, 2 do
    local vm = v[1] * M[1][j] + v[2] * M[2][j]
    local d = vm - w[j]
    if d < 0 then d = -d end
    assert(d < const.real("1e-45"), "2F1(1,1;3;1/2) state moved along " .. stp[1] .. ": off by " .. d:tostring(3))
  end
end

---------------------------------------------------------------- check.matrix_field
local fields = { e = { { 0, 4 }, { 0, 4 } }, pi = { { 1, 4 }, { 0, 3 } }, symmetric_pi = { 1, 4 }, zeta3 = { 1, 4 },
  zeta2 = { 1, 4 }, log = { 1, 4 }, hypergeometric_2F1 = { 1, 3 } }
for name, box in pairs(fields) do
  local r = check.matrix_field(cmf.known[name](), { box = box })
  T.eq(r.conservative, true, name .. ": every plaquette closes")
  T.eq(r.defects, 0, name .. ": no defect")
  assert(r.plaquettes >= 16, name .. ": plaquettes " .. r.plaquettes)
end
local r = check.matrix_field(cmf.pfq(2, 1, -1), { box = { x0 = { 1, 3 }, x1 = { 1, 3 }, y0 = { 1, 3 } } })
T.eq(r.conservative, true, "pFq(2,1,-1) on a box")
T.eq(r.plaquettes + r.skipped, 27 * 3, "pFq(2,1,-1): every plaquette checked or skipped at a pole")
assert(r.skipped > 0, "pFq(2,1,-1) has poles where y0 = x0 or x1")
-- the fixture is not conservative: the first defect, computed here by hand
local fixture = { { "x", "x+17" }, { "x*y", "3*y-x+5" } }
local bad = cmf.new{ axes = { "x", "y" }, M = { x = fixture, y = fixture }, validate = false }
r = check.matrix_field(bad, { box = { { 2, 4 }, { 1, 3 } } })
T.eq(r.conservative, false, "fixture: not conservative")
T.eq(r.defects, 9, "fixture: every plaquette has a defect")
T.eq(r.first_defect.point[1], 2, "first defect at x = 2")
T.eq(r.first_defect.point[2], 1, "first defect at y = 1")
local Mf = { { x, x + 17 }, { x * y, 3 * y - x + 5 } }
local lhs = mat_mul(at(Mf, { x = 2, y = 1 }), at(Mf, { x = 3, y = 1 }))
local rhs = mat_mul(at(Mf, { x = 2, y = 1 }), at(Mf, { x = 2, y = 2 }))
for i = 1, 2 do for j = 1, 2 do T.eq(r.first_defect.defect[i][j], lhs[i][j] - rhs[i][j], "defect [" .. i .. "][" .. j .. "]") end end
assert(r.verdict:find("not conservative", 1, true) and r.verdict:find("P = (2, 1)", 1, true), r.verdict)
-- zeta3 with 1 added to one entry: a defect on the box
for _, ax in ipairs{ "x", "y" } do
  for i = 1, 2 do
    for j = 1, 2 do
      local M = { x = z:M("x"), y = z:M("y") }
      M[ax][i][j] = M[ax][i][j] + 1
      local c = cmf.new{ axes = { "x", "y" }, M = M, validate = false }
      local rr = check.matrix_field(c, { box = { 1, 3 } })
      T.eq(rr.conservative, false, "zeta3 + 1 at M_" .. ax .. "[" .. i .. "][" .. j .. "]")
      assert(rr.first_defect and rr.defects > 0, "a defect is named")
    end
  end
end
T.raises(function() check.matrix_field(cmf.known.cmf1(), { box = { 1, 3 } }) end, "check.matrix_field", "parameters")
T.raises(function() check.matrix_field(z, {}) end, "option 'box' is required")
T.raises(function() check.matrix_field(z, { box = { 1, 3 }, boxes = 1 }) end, "unknown option 'boxes'")
