-- plots.lua: a tour of module plot on the 8 Gaussians.
--
--   fieldlab examples/plots.lua [small] [outdir]
--
-- Writes into outdir (default: a fresh temporary directory) a 2x3 summary
-- figure (PNG and PDF), an SVG of the samples, and the order plot of two ODE
-- steppers; prints the paths. The data are the FFJORD 8 Gaussians and their
-- exact density: samples, their 2-D histogram next to the exact log-density,
-- the score field as arrows and as streamlines, and its divergence on a grid
-- (the Laplacian of log p, negative near the modes).
local small = arg and arg[1] == "small"
local out = arg and arg[2]
if not out then
  out = os.tmpname()
  os.remove(out)
end
fieldlab.mkdir(out)
local function file(name) return out .. "/" .. name end

local n = small and 2000 or 50000
local xs = data.toy("8gaussians", n, {seed = 1})
local gmm = data.toy_density("8gaussians")
local score = gmm:score_field()
local box = {{-4, 4}, {-4, 4}}

local written = {}
local fig = plot.figure{rows = 2, cols = 3, file = file("summary.png")}
fig:scatter(xs, {panel = 1, title = string.format("%d samples", n), equal = true, xlim = box[1], ylim = box[2]})
fig:hist2d(xs, {panel = 2, title = "log10 histogram", bins = small and 40 or 100, range = box, log = true,
  density = true})
fig:heatmap(gmm:logp(), {panel = 3, title = "exact log p", box = box, n = small and 60 or 200,
  zrange = {-12, 0}, label = "log p"})
fig:quiver(score, {panel = 4, title = "score", box = {{-3.5, 3.5}, {-3.5, 3.5}}, n = small and 12 or 20,
  equal = true})
fig:streamlines(score, {panel = 5, title = "score streamlines", box = {{-3.5, 3.5}, {-3.5, 3.5}},
  n = small and 6 or 10, length = 0.5, steps = small and 40 or 200, equal = true})
local g = field.sample(score, {n = {small and 48 or 160, small and 48 or 160}, box = box})
fig:heatmap(g:grid_div(), {panel = 6, title = "div score = Lap log p", label = "div"})
written[#written + 1] = fig:save()
written[#written + 1] = fig:save(file("summary.pdf"))
written[#written + 1] = plot.scatter(xs, {file = file("samples.svg"), title = "8 Gaussians", equal = true})

-- Error against step count on log axes: euler (order 1) and rk4 (order 4)
-- for the rotation x' = (-y, x) from (1, 0) to t = 1 (exact: (cos 1, sin 1)).
local rot = field.rotation{omega = 1}
local steps = small and {4, 8, 16, 32} or {4, 8, 16, 32, 64, 128, 256}
local series = {}
for _, method in ipairs{"euler", "heun", "rk4"} do
  local err = {}
  for i, s in ipairs(steps) do
    local r = integrate.ode{field = rot, x0 = {1, 0}, t1 = 1, method = method, steps = s}
    local x = r.x
    err[i] = math.sqrt((x[1] - math.cos(1)) ^ 2 + (x[2] - math.sin(1)) ^ 2)
  end
  series[#series + 1] = {x = steps, y = err, label = method}
  local k = #steps
  print(string.format("%-6s error %.3e at %d steps, observed order %.2f", method, err[k], steps[k],
    math.log(err[k - 1] / err[k], 2)))
end
written[#written + 1] = plot.line(series, {file = file("orders.png"), logx = true, logy = true,
  title = "rotation to t = 1", xlabel = "steps", ylabel = "error"})

for _, p in ipairs(written) do
  local f = assert(io.open(p, "rb"))
  local size = f:seek("end")
  f:close()
  assert(size > 1000, p .. " is too small")
  print("wrote " .. p)
end
