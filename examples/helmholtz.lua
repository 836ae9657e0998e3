-- helmholtz.lua: Helmholtz-Hodge decompositions of a periodic flow and of a
-- noisy bounded "PIV-like" velocity field.
--
--   fieldlab examples/helmholtz.lua [small|full] [OUTDIR]
--
-- 1. Periodic: a Taylor-Green vortex (divergence free) plus the gradient of
--    a potential plus a mean flow, on [0, 2 pi)^2. The FFT split returns the
--    three parts exactly (the data are band limited), and the energy
--    fractions are those of the closed forms.
-- 2. Bounded: a source (a blob of positive divergence) and a vortex inside
--    a box, a uniform stream induced from outside, and measurement noise,
--    sampled on the nodes of [0, 1]^2 as PIV would. The natural HHD needs no
--    boundary condition: the source goes to the gradient part, the vortex to
--    the solenoidal part, the outside stream to the harmonic part. The
--    normal-flux split instead lets the gradient part carry all the flux
--    through the walls.
-- The components are written as .npy files to OUTDIR (default
-- helmholtz_out/).
local small = arg and arg[1] == "small"
local out = fieldlab.mkdir(arg and arg[2] or "helmholtz_out")
local n = small and 32 or 256
local pi = math.pi

-- A grid field with values fun(x, y) -> vx, vy at the nodes.
local function sample(spec, fun)
  local g = field.grid(spec)
  local x = g:points()
  local v = g.values:reshape(#x, 2)
  for p = 1, #x do
    local a, b = fun(x:get(p, 1), x:get(p, 2), p)
    v:set(p, 1, a)
    v:set(p, 2, b)
  end
  return g
end

----------------------------------------------------------------- periodic
local tg = field.taylor_green{}
local periodic = { n = { n, n }, box = { 0, 2 * pi }, periodic = true }
local v = sample(periodic, function(x, y)
  local u = tg{ x, y }
  -- grad(cos x sin 2y) / 2 and the mean flow (0.3, 0)
  return u[1] - 0.5 * math.sin(x) * math.sin(2 * y) + 0.3, u[2] + math.cos(x) * math.cos(2 * y)
end)
local r = decomp.helmholtz(v)
print(r)
-- closed forms: int |u_TG|^2 = 2 pi^2, int |grad|^2 = 5 pi^2 / 4, mean 0.3^2 * 4 pi^2
local total = 2 + 1.25 + 0.36
print(string.format("  expected:  gradient %.6f, solenoidal %.6f, harmonic %.6f", 1.25 / total, 2 / total, 0.36 / total))
print(string.format("  max |div solenoidal| = %.2g, max |curl gradient| = %.2g (spectral)",
  r.solenoidal:grid_div{ method = "spectral" }.values:abs():max(),
  r.gradient:grid_curl{ method = "spectral" }.values:abs():max()))
r:save(out .. "/periodic")

----------------------------------------------------------------- bounded, PIV-like
local m = small and 33 or 129
local box = { n = { m, m }, box = { { 0, 1 }, { 0, 1 } } }
local noise = array.randn({ m * m, 2 }, { seed = 1 }) * 0.01 -- measurement noise
local piv = sample(box, function(x, y, p)
  -- a source at (0.35, 0.5) and a vortex at (0.65, 0.5), Gaussian cores
  local sx, sy, wx, wy = x - 0.35, y - 0.5, x - 0.65, y - 0.5
  local s = (1 - math.exp(-(sx * sx + sy * sy) / 0.01)) / (sx * sx + sy * sy + 1e-300) * 0.02
  local w = (1 - math.exp(-(wx * wx + wy * wy) / 0.01)) / (wx * wx + wy * wy + 1e-300) * 0.03
  return sx * s - wy * w + 0.2 + noise:get(p, 1), sy * s + wx * w + 0.1 + noise:get(p, 2)
end)
for _, b in ipairs { "natural", "normal" } do
  local rb = decomp.helmholtz(piv, { boundary = b })
  print(rb)
  rb:save(out .. "/piv_" .. b)
end
print("components written to " .. out .. "/")
