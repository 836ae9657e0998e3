-- conservativity.lua: is a score field a gradient field, and does its
-- non-conservative part move probability mass?
--
--   fieldlab examples/conservativity.lua [N | small]   (N points, default 2000; small: 300)
--
-- Three fields on the FFJORD 8 Gaussians noised by the VP schedule, tested
-- by the same battery at three times and shown side by side:
--   exact  the exact score grad log p_t (a gradient field)
--   gauge  exact + 0.3 A grad log p_t, A a rotation generator: not a
--          gradient field, but div(p_t r) = 0, so it moves no density
--          (Horvat and Pfister's gauge freedom, reference V3)
--   swirl  exact + 0.3 (rotation about the point (2, 0)): not a gradient
--          field, and its error does move density
--   mlp    a plain MLP trained here by denoising score matching (eps
--          target, VP schedule) on samples of the same mixture, read as a
--          score with vp:score(model): what a trained network looks like
local small = arg and arg[1] == "small"
local n = tonumber(arg and arg[1]) or (small and 300) or 2000
local times = { 0.05, 0.2, 0.6 }

local c = {}
for k = 0, 7 do
  local a = k * math.pi / 4
  c[#c + 1] = { 4 * math.cos(a) / 1.414, 4 * math.sin(a) / 1.414 }
end
local data = field.gmm{ means = c, covs = (0.5 / 1.414) ^ 2 }
local vp = diffusion.vp()
local pt = vp:noised(data)
local exact = pt.score

local t0 = fieldlab.clock()
local model = net.mlp{ dim = 2, hidden = small and { 64, 64 } or { 128, 128, 128 }, act = "silu",
  time = "fourier", param = "eps", seed = 1 }
local steps = small and 600 or 6000
net.train(model, { data = data:sample(20000, { seed = 3 }), loss = loss.dsm(vp, { target = "eps" }),
  steps = steps, batch = 256, lr = 3e-3, warmup = steps // 20, cosine = true, seed = 2 })
local train_time = fieldlab.clock() - t0

local fields = {
  { "exact", exact },
  { "gauge", exact + 0.3 * field.gauge{ A = { { 0, -1 }, { 1, 0 } }, score = exact } },
  { "swirl", exact + 0.3 * field.linear{ A = { { 0, -1 }, { 1, 0 } }, b = { 0, -2 } } },
  { "mlp", vp:score(model) },
}

-- test points: samples of the data (the battery evaluates p_t's score at them)
local x = data:sample(n, { seed = 1 })
local reports = {}
t0 = fieldlab.clock()
for i, f in ipairs(fields) do
  reports[i] = check.conservativity(f[2], { points = x, t = times, density = pt, reference = exact,
    samples = math.max(2000, 4 * n), seed = 1 })
end
local elapsed = fieldlab.clock() - t0

-- one table: a row per (t, measurement), a column per field
local function cell(r)
  if not r or r.mean == nil then return "-" end
  if r.se and not (r.ci_lo and r.ci_lo == r.ci_lo) then return string.format("%.3g+-%.1g", r.mean, r.se) end
  return string.format("%.3g", r.mean)
end
local wanted = {
  { "jacobian", "NAsym", "NAsym (mean)" },
  { "circulation", "|G|/(perimeter |v|)", "|circulation| rel." },
  { "path", "|dI|/(length |v|)", "|path diff.| rel." },
  { "weighted", "gauge fraction", "gauge share E|v|^2" },
  { "weighted", "gauge fraction", "  floor (exact)", "floor" },
  { "error", "moves density", "error moving p" },
  { "error", "gauge (moves none)", "error gauge part" },
}
print(string.format("conservativity battery: 8 Gaussians under VP, %d points, %d times, %d fields (%.2f s; training the MLP %.2f s)",
  n, #times, #fields, elapsed, train_time))
print(string.format("%-6s %-22s %14s %14s %14s %14s", "t", "measurement", "exact", "gauge", "swirl", "mlp"))
for _, t in ipairs(times) do
  for _, w in ipairs(wanted) do
    local cells = {}
    for i = 1, #fields do
      local found
      for _, r in ipairs(reports[i].rows) do
        if r.t == t and r.test == w[1] and r.metric == w[2] then found = r end
      end
      cells[i] = w[4] and found and string.format("%.3g", found[w[4]]) or cell(found)
    end
    print(string.format("%-6g %-22s %14s %14s %14s %14s", t, w[3], cells[1], cells[2], cells[3], cells[4]))
  end
end
print()
for i, f in ipairs(fields) do
  local verdict = reports[i].conservative == true and "consistent with a gradient field"
    or reports[i].conservative == false and "not conservative" or "inconclusive"
  print(string.format("%-6s %s", f[1], verdict))
end
print("\nfull report of the gauge field:")
print(reports[2])
