-- Module check: Jacobian asymmetry, circulation and path independence
-- against closed forms (V3, V5), exact gradient fields at their floors with
-- spectral decay in the node count, the eps^2 / eps scaling of a perturbed
-- gradient, differences vs exact Jacobians, the weighted split of V4, NaN
-- exclusion, and the battery's report (table, verdict, JSON, save).
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
local pi = math.pi

local function log10(x) return math.log(x, 10) end

-- the FFJORD 8 Gaussians, noised by the VP schedule
local c = {}
for k = 0, 7 do
  local a = k * pi / 4
  c[#c + 1] = { 4 * math.cos(a) / 1.414, 4 * math.sin(a) / 1.414 }
end
local g8 = field.gmm{ means = c, covs = (0.5 / 1.414) ^ 2 }
local pt = diffusion.vp():noised(g8)
local x8 = g8:sample(400, { seed = 3 })

-- 1. exact gradient fields: NAsym <= 1e-12 with exact Jacobians, circulation at the floor
local gauss = field.gaussian{ mean = { 0.5, -1 }, cov = { { 2, 0.7 }, { 0.7, 1 } } }:score_field()
local plum = field.plummer{ M = 1, b = 1 }:grad()
local x3 = array.randn({ 300, 3 }, { seed = 4 }) * 1.5
for _, case in ipairs{ { pt.score, x8, 0.1 }, { pt.score, x8, 0.5 }, { gauss, x8, 0 }, { plum, x3, 0 } } do
  local f, x, t = case[1], case[2], case[3]
  local j = check.jacobian(f, { points = x, t = t })
  T.eq(j.exact, true, "exact Jacobian of " .. f.kind)
  T.eq(j.summary.n, x.shape[1], "all points used")
  assert(j.nasym:max() <= 1e-12, f.kind .. ": NAsym " .. j.nasym:max())
  local cr = check.circulation(f, { centers = x, radii = 0.3, t = t, loops = f.dim == 2 and 1 or 2 })
  assert(cr.relative:abs():max() <= 1e-13, f.kind .. ": circulation " .. cr.relative:abs():max())
  T.eq(cr.above, 0, f.kind .. ": no loop above its floor")
  assert(cr.floor:max() < 1e-13, "reference floor at rounding")
end

-- spectral decay with the number of nodes (Plummer gradient, loops of radius 1)
do
  local prev, errs = math.huge, {}
  for i, m in ipairs{ 4, 8, 16, 32, 64 } do
    local cr = check.circulation(plum, { centers = x3, radii = 1, nodes = m, seed = 1 })
    errs[i] = cr.relative:abs():max()
  end
  assert(errs[1] > 1e-4, "4 nodes do not resolve the loops: " .. errs[1])
  for i = 2, 4 do
    assert(errs[i] < errs[i - 1] / 10 or errs[i] < 1e-14, string.format("decay %g -> %g", errs[i - 1], errs[i]))
  end
  assert(errs[5] < 1e-14, "64 nodes: rounding, got " .. errs[5])
  -- the halving estimate tracks the actual error of a coarse rule
  local cr = check.circulation(plum, { centers = x3, radii = 1, nodes = 8, seed = 1 })
  assert(cr.halving:max() >= cr.relative:abs():max(), "halving bounds the 8-node error")
end

-- 2. V5: p = N(0, c I), r = a J grad log p = a (y/c, -x/c): G = -2 pi a rho^2 / c
do
  local a, cc = 0.8, 2.5
  local s = field.linear{ A = { { -1 / cc, 0 }, { 0, -1 / cc } } }
  local r = field.gauge{ A = { { 0, -a }, { a, 0 } }, score = s }
  local ctr = array.randn({ 50, 2 }, { seed = 5 })
  for _, rho in ipairs{ 0.05, 0.5, 2 } do
    local cr = check.circulation(r, { centers = ctr, radii = rho, nodes = 64 })
    local G = -2 * pi * a * rho ^ 2 / cc
    T.allclose(cr.gamma, array.full(50, G), 1e-10, "V5 circulation, rho = " .. rho)
    T.allclose(cr.small_loop, array.full(50, -2 * a / cc), 1e-14, "w^T (J - J^T) u")
    T.allclose(cr.per_area, cr.small_loop, 1e-12, "G/area = small-loop limit (linear field)")
  end
  -- NAsym: r alone is skew (1); s + r: a^2/(1 + a^2)
  T.allclose(check.jacobian(r, { points = ctr }).nasym, array.ones(50), 1e-14, "NAsym of the rotation")
  T.allclose(check.jacobian(s + r, { points = ctr }).nasym, array.full(50, a * a / (1 + a * a)), 1e-14, "NAsym of s + r")
end

-- V3 on the noised GMM: J - J^T = c (A H + H A), J = (I + c A) H with H the score Jacobian
do
  local cg = 0.6
  local A = { { 0, -1 }, { 1, 0 } }
  local v = pt.score + cg * field.gauge{ A = A, score = pt.score }
  local x = x8:slice{ { 1, 40 } }
  local H = pt.score:jacobian(x, 0.3)
  local j = check.jacobian(v, { points = x, t = 0.3 })
  for i = 1, 40 do
    local h11, h12, h22 = H:get(i, 1, 1), H:get(i, 1, 2), H:get(i, 2, 2)
    -- A H + H A for A = [[0,-1],[1,0]] and symmetric H: [[-2 h12, h11 - h22], [h11 - h22, 2 h12]]: symmetric!
    -- so J - J^T = c (A H - (A H)^T) = c (A H + H A) with (A H)^T = H^T A^T = -H A
    local AH = { { -h12, -h22 }, { h11, h12 } }
    local J = { { h11 + cg * AH[1][1], h12 + cg * AH[1][2] }, { h12 + cg * AH[2][1], h22 + cg * AH[2][2] } }
    local skew = J[1][2] - J[2][1]
    local jn = J[1][1] ^ 2 + J[1][2] ^ 2 + J[2][1] ^ 2 + J[2][2] ^ 2
    T.near(skew, -cg * (h11 + h22), 1e-12, "V3: skew part c (A H + H A)_12 = -c tr H")
    T.near(j.nasym[i], 2 * skew ^ 2 / (4 * jn), 1e-12, "V3: NAsym closed form")
  end
end

-- 3. grad phi + eps * rotation: NAsym ~ eps^2, circulation ~ eps, over 4 decades
do
  local g = field.gmm{ means = { { -1, 0 }, { 1, 0.5 } }, covs = 0.3 }
  local sc = g:score_field()
  local x = g:sample(400, { seed = 2 })
  local na, ci = {}, {}
  local eps = { 1e-1, 1e-2, 1e-3, 1e-4, 1e-5 }
  for i, e in ipairs(eps) do
    local v = sc + e * field.rotation{}
    na[i] = check.jacobian(v, { points = x }).summary.mean
    ci[i] = check.circulation(v, { centers = x, radii = 0.2 }).summary.mean
  end
  for i = 2, #eps do
    local sn = (log10(na[i - 1]) - log10(na[i])) / (log10(eps[i - 1]) - log10(eps[i]))
    local sc_ = (log10(ci[i - 1]) - log10(ci[i])) / (log10(eps[i - 1]) - log10(eps[i]))
    assert(math.abs(sn - 2) < 0.01, "NAsym slope " .. sn)
    assert(math.abs(sc_ - 1) < 0.01, "circulation slope " .. sc_)
  end
  local s4 = (log10(na[1]) - log10(na[5])) / 4
  assert(math.abs(s4 - 2) < 0.005, "NAsym slope over 4 decades " .. s4)
end

-- 4. differences on a scripted field agree with the exact Jacobian to 1e-6
do
  local v = pt.score + 0.4 * field.gauge{ A = { { 0, -1 }, { 1, 0 } }, score = pt.score }
  local scripted = field.fn(function(x, t) return v(x, t) end, { dim = 2, time_dependent = true })
  local je = check.jacobian(v, { points = x8, t = 0.5 })
  local jf = check.jacobian(scripted, { points = x8, t = 0.5 })
  T.eq(je.exact, true); T.eq(jf.exact, false)
  T.allclose(jf.nasym, je.nasym, 1e-6, "NAsym by differences vs exact")
  T.eq(jf.floor, 1e-12, "difference floor")
  -- probes estimate the same mean NAsym within their sampling error
  local jp = check.jacobian(scripted, { points = x8, t = 0.5, method = "probes", probes = 64, seed = 1 })
  local m, mp = je.asym_summary.mean, jp.asym_summary.mean
  assert(math.abs(mp - m) < 4 * jp.asym_summary.se + 1e-9, string.format("probe Asym %g vs %g (se %g)", mp, m, jp.asym_summary.se))
  -- sub-block: a 3-D field whose skew part lives in coordinates 1, 3
  local lin = field.linear{ A = { { 1, 0, 2 }, { 0, 1, 0 }, { -2, 0, 1 } } }
  local jb = check.jacobian(lin, { points = { { 0, 0, 0 } }, coords = { 1, 3 } })
  T.near(jb.asym[1], 0.5 * 2 * 4 ^ 2, 1e-14, "sub-block Asym")
  T.near(check.jacobian(lin, { points = { { 0, 0, 0 } }, coords = { 1, 2 } }).asym[1], 0, 0, "block without skew")
end

-- curl: the ABC flow is Beltrami (curl u = u)
do
  local u = field.abc{}
  local cu = check.curl(u, { points = x3 })
  T.allclose(cu.curl, u(x3), 1e-13, "curl ABC = ABC")
  T.eq(cu.exact, true)
  local c2 = check.curl(field.rotation{ omega = 1.5 }, { points = x8 })
  T.allclose(c2.magnitude, array.full(400, 3), 1e-14, "2-D vorticity 2 omega")
end

-- path independence: segment vs half circle around the half disc: omega pi R^2
do
  local rot = field.rotation{ omega = 1.3 }
  local a, b = x8:slice{ { 1, 50 } }, x8:slice{ { 51, 100 } }
  local p = check.path_independence(rot, { pairs = { a = a, b = b }, seed = 2 })
  local R2 = ((b - a) * (b - a)):sum(2) / 4
  -- the sign follows the side of the arc (w in 2-D is +-perp(b - a))
  T.allclose(p.diff:abs(), R2 * (1.3 * pi), 1e-12, "half-disc circulation")
  -- polylines on a gradient field: path independent to rounding (smooth Gaussian score)
  local q = check.path_independence(gauss, { pairs = { a = a, b = b }, paths = { "polyline", "arc" }, seed = 3 })
  assert(q.relative:abs():max() < 1e-13, "gradient: path independent, got " .. q.relative:abs():max())
  T.eq(q.above, 0)
end

-- 5. V4: p = N(0, I), v = (x, 1) + (xy, 1 - x^2): E_p|grad phi|^2 = 2, E_p|r|^2 = 3
do
  local v = field.fn(function(x)
    local a, b = x:col(1), x:col(2)
    return array.stack({ a + a * b, 2 - a * a }, 2)
  end, { dim = 2 })
  local grad = field.fn(function(x) return array.stack({ x:col(1), array.ones(#x) }, 2) end, { dim = 2 })
  local samples = array.randn({ 40000, 2 }, { seed = 9 })
  local rep = check.conservativity(v, { points = samples:slice{ { 1, 200 } }, tests = { "weighted", "error" },
    density = samples, reference = grad })
  local got = {}
  for _, r in ipairs(rep.rows) do got[r.test .. ":" .. r.metric] = r end
  local gp, gg = got["weighted:E_p|grad phi|^2"], got["weighted:E_p|r|^2 (gauge)"]
  assert(math.abs(gp.mean - 2) < 4 * gp.se, string.format("E|grad phi|^2 = %g +- %g, expected 2", gp.mean, gp.se))
  assert(math.abs(gg.mean - 3) < 4 * gg.se, string.format("E|r|^2 = %g +- %g, expected 3", gg.mean, gg.se))
  assert(gp.se < 0.05 and gg.se < 0.1, "Monte-Carlo errors small enough for the test to bite")
  -- the error v - grad phi* is the gauge part r*: it moves (almost) no density
  local em, eg = got["error:moves density"], got["error:gauge (moves none)"]
  assert(em.mean < 0.01, "error part moving density " .. em.mean)
  assert(math.abs(eg.mean - 3) < 4 * eg.se, "error gauge part " .. eg.mean)
end

-- 6. the battery: an exact score is reported consistent, a gauge-perturbed one not
local rs = check.conservativity(pt.score, { points = x8, t = { 0.2, 0.6 } })
T.eq(rs.conservative, true, "exact score: consistent")
assert(rs.verdict:find("consistent with a gradient field", 1, true), rs.verdict)
assert(rs.verdict:find("non-conservativity below the floors is not excluded", 1, true))
local pert = pt.score + 0.2 * field.gauge{ A = { { 0, -1 }, { 1, 0 } }, score = pt.score }
local rp = check.conservativity(pert, { points = x8, t = { 0.2, 0.6 }, density = pt, reference = pt.score, samples = 5000 })
T.eq(rp.conservative, false, "gauge-perturbed score: not conservative")
assert(rp.verdict:find("Not conservative at 95% confidence", 1, true), rp.verdict)
local txt = tostring(rp)
for _, frag in ipairs{ "Conservativity report", "NAsym [exact]", "|G|/(perimeter |v|)", "w.(J-J^T)u", "gauge fraction", "verdict:" } do
  assert(txt:find(frag, 1, true), "report table lacks " .. frag)
end
-- the error of the perturbed score is a pure gauge field: its density-moving part is ~0
for _, r in ipairs(rp.rows) do
  if r.test == "error" and r.metric == "gauge fraction" then assert(r.mean > 0.99, "gauge fraction " .. r.mean) end
  if r.test == "jacobian" and r.metric == "NAsym" then assert(r.ci_lo > 1e-3, "NAsym interval excludes 0") end
end

-- 7. NaN at some points: counted, excluded, noted; never an error
do
  local gr = field.sample(field.rotation{}, { n = { 33, 33 }, box = { -2, 2 } })
  gr.values:set(17, 17, 1, 0 / 0)         -- the node (0, 0)
  local x = array.rand({ 300, 2 }, { seed = 6 }) * 3.8 - 1.9
  local want = 0
  local J = gr:jacobian(x)
  for i = 1, 300 do if J:get(i, 1, 1) ~= J:get(i, 1, 1) or J:get(i, 1, 2) ~= J:get(i, 1, 2) then want = want + 1 end end
  assert(want > 0 and want < 300, "some points see the NaN node: " .. want)
  local rep = check.conservativity(gr, { points = x, tests = { "jacobian" } })
  local r = rep.rows[1]
  T.eq(r.nan, want, "NaN count")
  T.eq(r.n, 300 - want, "finite points used")
  assert(r.mean == r.mean, "the mean is over the finite points")
  assert(#rep.notes == 1 and rep.notes[1]:find(string.format("%d of 300", want), 1, true), rep.notes[1])
  assert(rep.verdict:find("non-finite values were excluded", 1, true))
  -- JSON: NaN as null with a note; strings escaped; numbers round-trip
  rep.field = 'a "quoted"\tname\n'
  local js = rep:json()
  assert(js:find('"field":"a \\"quoted\\"\\tname\\n"', 1, true), js:sub(1, 200))
  assert(js:find('"npoints":300', 1, true))
  assert(not js:find("null", 1, true) and not js:find("written as null", 1, true), "no NaN, no note")
  rep.rows[1].mean = 0 / 0
  rep.rows[1].max = 1 / 0
  js = rep:json()
  assert(js:find('"mean":null', 1, true) and js:find('"max":null', 1, true), "NaN and Inf as null")
  assert(js:find('NaN and Inf values are written as null', 1, true), "with a note")
  assert(not js:find("[:,%[]%-?nan") and not js:find("[:,%[]%-?inf"), "no bare nan/inf tokens")
  local jsr = rs:json()
  assert(jsr:find('"conservative":true', 1, true))
  local mean = rs.rows[1].mean
  local m = jsr:match('"mean":([^,}]+)')
  assert(tonumber(m) == mean, "%.17g round trip")
  local path = os.tmpname()
  T.eq(rp:save(path), path)
  local fh = io.open(path); local body = fh:read("a"); fh:close(); os.remove(path)
  T.eq(body, rp:json() .. "\n", "save writes json()")
end

-- statistics: counts, quantiles, bootstrap interval ~ mean +- 1.96 se
do
  local s = check.stats(array.from{ 3, 1, 0 / 0, 4, 1 / 0, 2 }, { quantiles = { 0.25, 1 } })
  T.eq(s.n, 4); T.eq(s.nan, 2)
  T.near(s.mean, 2.5, 1e-15); T.near(s.median, 2.5, 0); T.near(s.quantiles[1], 1.75, 1e-15)
  T.near(s.sd, math.sqrt(5 / 3), 1e-15)
  local z = check.stats(array.randn(5000, { seed = 8 }) + 3, { bootstrap = 2000 })
  T.near((z.ci_hi - z.ci_lo) / (2 * 1.96 * z.se), 1, 0.1, "bootstrap half-width / (1.96 se)")
  assert(math.abs(z.mean - 3) < 4 * z.se)
end
