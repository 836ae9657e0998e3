-- The WGF paper's qualitative claim as a test: a plain MLP trained by
-- denoising score matching on 8gaussians is measurably non-conservative
-- (the interval of its mean NAsym excludes zero and its loop integrals
-- exceed their quadrature floors), while net.gradient(E) trained the same
-- way (same data, loss, optimizer, steps, seed) is a gradient field: NAsym 0
-- to rounding and every loop at its floor.
local T = dofile((os.getenv("top_srcdir") or ".") .. "/tests/testlib.lua")

local vp = diffusion.vp()
local x = data.toy("8gaussians", 4000, { seed = 1 })
local arch = { dim = 2, hidden = { 64, 64 }, act = "silu", time = "fourier", param = "eps", seed = 1 }
local train = { data = x, loss = loss.dsm(vp, { target = "eps" }), steps = 800, batch = 256, lr = 3e-3, seed = 2 }

local plain = net.mlp(arch)
local lp = net.train(plain, train)
local E = net.potential(arch)
local grad = net.gradient(E)
local lg = net.train(grad, train)
-- both learned something: the eps loss starts near 1 (unit-variance noise)
assert(lp[lp.size] < 0.5 * lp[1] and lg[lg.size] < 0.5 * lg[1], "training lowered both losses")

local pts = data.toy("8gaussians", 300, { seed = 5 })
local times = { 0.1, 0.5 }
local rp = check.conservativity(plain, { points = pts, t = times, seed = 1 })
local rg = check.conservativity(grad, { points = pts, t = times, seed = 1 })

local function row(r, t, test, metric)
  for _, w in ipairs(r.rows) do
    if w.t == t and w.test == test and w.metric == metric then return w end
  end
  error("no row " .. test .. " " .. metric)
end

T.eq(rp.conservative, false, "plain MLP: not conservative")
T.eq(rg.conservative, true, "net.gradient(E): consistent with a gradient field")
for _, t in ipairs(times) do
  local a = row(rp, t, "jacobian", "NAsym")
  assert(a.exact and a.ci_lo > 0 and a.ci_lo > 100 * a.floor,
    string.format("plain NAsym at t=%g: CI [%g, %g] excludes 0", t, a.ci_lo, a.ci_hi))
  assert(a.mean > 1e-4 and a.mean < 0.25, "plain NAsym in a plausible range: " .. a.mean)
  local c = row(rp, t, "circulation", "|G|/(perimeter |v|)")
  assert(c.above >= 0.9 * c.of and c.ci_lo > 1e-6, "plain loops above their floors")

  local b = row(rg, t, "jacobian", "NAsym")
  assert(b.mean <= 1e-12 and b.ci_hi <= 1e-12, "gradient NAsym <= 1e-12, got " .. b.mean)
  local d = row(rg, t, "circulation", "|G|/(perimeter |v|)")
  T.eq(d.above, 0, "no gradient-network loop above its floor")
  assert(d.mean < 1e-13, "gradient circulation at rounding: " .. d.mean)
  -- the small-loop limit: G/area and w.(J - J^T)u agree for the plain net
  local ga = row(rp, t, "circulation", "G/area")
  local sl = row(rp, t, "circulation", "w.(J-J^T)u")
  T.near(ga.mean, sl.mean, 0.05 * math.abs(sl.mean) + 1e-3, "small-loop limit at t=" .. t)
end
print(string.format("plain NAsym %.3g / %.3g, gradient %.1g", row(rp, 0.1, "jacobian", "NAsym").mean,
  row(rp, 0.5, "jacobian", "NAsym").mean, row(rg, 0.1, "jacobian", "NAsym").mean))

-- the report's figure: one panel per headline metric against t
local png = os.tmpname() .. ".png"
T.eq(rp:plot(png, { title = "plain MLP" }), png)
local fh = assert(io.open(png, "rb")); local head = fh:read(8); local size = fh:seek("end"); fh:close()
os.remove(png)
T.eq(head, "\137PNG\r\n\26\n", "PNG signature")
assert(size > 5000, "a figure, not an empty file: " .. size)
T.raises(function() rp:plot(png, { colour = 1 }) end)
T.raises(function() rp:plot(42) end)
