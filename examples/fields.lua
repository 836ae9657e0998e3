-- fields.lua: exact fields, grid samples of them, and what their derivatives say.
--
--   fieldlab examples/fields.lua [small]
--
-- The data are the FFJORD 8 Gaussians, whose density is an exact mixture.
-- Under the VP schedule its noised density p_t, score and probability-flow
-- velocity are exact too: the ground truth later experiments compare networks
-- with. Here we sample the velocity on a grid, differentiate the grid by
-- finite differences, and check the maps against the exact derivatives:
--   * div v from the grid vs the exact divergence (the scheme's error);
--   * curl v ~ 0: the velocity f x - g^2/2 grad log p_t is a gradient field;
--   * the gauge field r = A grad log p_t (A skew) is not (curl r = Lap log p_t),
--     yet div(p_t r) = 0: it moves no probability mass.
local small = arg and arg[1] == "small"
local n = small and 48 or 160
local box = {{-4, 4}, {-4, 4}}

local vp = diffusion.vp()
local gmm = data.toy_density("8gaussians")
local pt = vp:noised(gmm)
print(string.format("8 Gaussians under %s; grids of %dx%d nodes on [-4,4]^2\n", tostring(vp), n, n))

local function summary(name, a)
  return string.format("%-28s min %10.4f  mean %10.4f  max %10.4f", name, a:min(), a:mean(), a:max())
end

for _, t in ipairs{0.05, 0.3, 1.0} do
  print(string.format("t = %.2f  (alpha %.4f, sigma %.4f)", t, vp:alpha(t), vp:sigma(t)))
  local v = field.sample(pt.velocity, {n = {n, n}, box = box}, {t = t})
  local nodes = v:points()
  local div_grid = v:grid_div{order = 4}.values:reshape(n * n)
  local div_exact = pt.velocity:div(nodes, t)
  local curl_grid = v:grid_curl{order = 4}.values:reshape(n * n)
  print("  " .. summary("div v (grid, 4th order)", div_grid))
  print(string.format("  %-28s %.2e (exact divergence from the mixture)", "max |div error|",
    (div_grid - div_exact):abs():max()))
  print(string.format("  %-28s %.2e (a gradient field: zero up to the scheme's error)", "max |curl v|",
    curl_grid:abs():max()))

  -- the gauge field A grad log p_t, A = [[0, -1], [1, 0]]
  local r = field.gauge{A = array.from{{0, -1}, {1, 0}}, score = pt.score}
  local curl_r = r:curl(nodes, t)
  local lap = pt.logp:laplacian(nodes, t)
  local s = pt.score(nodes, t)
  local div_pr = r:div(nodes, t) + (r(nodes, t) * s):sum(2)   -- div(p r)/p = div r + r . grad log p
  print("  " .. summary("curl r (gauge field)", curl_r))
  print(string.format("  %-28s %.2e", "max |curl r - Lap log p|", (curl_r - lap):abs():max()))
  print(string.format("  %-28s %.2e (moves no mass)\n", "max |div(p r)| / p", div_pr:abs():max()))
end
