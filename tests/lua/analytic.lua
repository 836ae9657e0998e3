-- Analytic fields and potentials through the bindings: values at known
-- points, exact derivatives (flagged exact, equal to the field's own
-- central differences), closed forms, the gauge identity on a GMM score,
-- and option validation.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
local pi = math.pi

-- the same field without derivatives: the lib differences it (exact = false)
local function plain(f)
  return field.fn(function(x, t) return f(x, t) end, {dim = f.dim, codim = f.codim})
end

local pts2 = array.randn({50, 2}, {seed = 11}) * 1.5 + 0.2
local pts3 = array.randn({50, 3}, {seed = 12}) * 1.5 + 0.2

local function check_jac(f, pts, tol, what)
  local J = f:jacobian(pts)
  T.eq(J.exact, true, what .. ": exact Jacobian")
  local Jfd = plain(f):jacobian(pts)
  T.eq(Jfd.exact, false, what .. ": differenced Jacobian")
  T.allclose(J, Jfd, tol, what .. ": Jacobian vs differences")
end

-- linear: values, Jacobian, divergence, kind and shapes
local A = {{1, 2, -1}, {0.5, 3, 4}}
local f = field.linear{A = A, b = {0.25, -2}}
T.eq(f.kind, "linear"); T.eq(f.dim, 3); T.eq(f.codim, 2); T.eq(f.time_dependent, false)
T.allclose(f{1, -2, 0.5}, {1 - 4 - 0.5 + 0.25, 0.5 - 6 + 2 - 2}, 0, "A x + b")
T.allclose(f:jacobian{7, 8, 9}, A, 0, "Jacobian = A")
check_jac(f, pts3, 1e-8, "linear")
local sq = field.linear{A = {{1, 2}, {3, 4}}}
T.eq(sq:div{5, 6}, 5, "div = trace A")
T.allclose(sq(array.from{{1, 0}, {0, 1}}), {{1, 3}, {2, 4}}, 0, "batch")

-- rotation and shear
local rot = field.rotation{omega = 1.5}
T.eq(rot.kind, "rotation")
T.allclose(rot{0.3, -1.7}, {1.5 * 1.7, 1.5 * 0.3}, 1e-15)
T.near(rot:curl{0.3, -1.7}, 3, 1e-15, "rotation vorticity 2 omega")
local rot3 = field.rotation{omega = 2, axis = {0, 3, 4}}
T.eq(rot3.dim, 3)
T.allclose(rot3{1, 0, 0}, {0, 2 * 0.8, -2 * 0.6}, 1e-15, "omega (n x x)")
T.allclose(rot3:curl{0.1, 0.2, 0.3}, {0, 4 * 0.6, 4 * 0.8}, 1e-14, "3-D curl 2 omega n")
T.allclose(field.rotation{dim = 3}{1, 2, 3}, {-2, 1, 0}, 0, "default axis z")
local sh = field.shear{rate = 0.7}
T.allclose(sh{1, 2}, {1.4, 0}, 1e-15); T.near(sh:curl{1, 2}, -0.7, 1e-15, "shear vorticity")

-- point vortex: value at a known point, div 0, curl 0 off the centre,
-- circulation gamma (periodic trapezoid rule)
local function circulation(u, cx, cy, rho, N)
  local th = array.linspace(0, 2 * pi * (N - 1) / N, N)
  local pts = array.stack({th:cos() * rho + cx, th:sin() * rho + cy}, 2)
  local v = u(pts)
  local tang = array.stack({-th:sin() * rho, th:cos() * rho}, 2)
  return (v * tang):sum() * 2 * pi / N
end
local gamma = 2.5
local pv = field.vortex{gamma = gamma, center = {0.5, -0.25}}
T.eq(pv.kind, "vortex")
T.allclose(pv{2.5, -0.25}, {0, gamma / (4 * pi)}, 1e-15, "point vortex at r = 2")
check_jac(pv, pts2 + 3, 1e-7, "point vortex")
local far = pts2 + 3
T.allclose(pv:div(far), array.zeros(50), 0, "div 0")
T.allclose(pv:curl(far), array.zeros(50), 1e-14, "curl 0 off the centre")
T.near(circulation(pv, 0.5, -0.25, 0.7, 32), gamma, 1e-14, "circulation gamma")
T.near(circulation(pv, 4, 4, 1, 64), 0, 1e-13, "no circulation around a loop without the vortex")
T.allclose(pv{0.5, -0.25}, {0, 0}, 0, "centre: self-induced velocity 0")

-- Lamb-Oseen vortex: finite centre, Gaussian vorticity
local a = 0.6
local lo = field.vortex{gamma = gamma, core = a}
check_jac(lo, pts2, 1e-7, "Lamb-Oseen")
T.allclose(lo:jacobian{0, 0}, {{0, -gamma / (2 * pi * a * a)}, {gamma / (2 * pi * a * a), 0}}, 1e-15,
  "Lamb-Oseen Jacobian at the centre")
local r2 = (pts2 * pts2):sum(2)
T.allclose(lo:curl(pts2), (-r2 / (a * a)):exp() * (gamma / (pi * a * a)), 1e-13, "Lamb-Oseen vorticity")
T.near(circulation(lo, 0, 0, 0.9, 32), gamma * (1 - math.exp(-0.81 / (a * a))), 1e-14, "Lamb-Oseen circulation")

-- Taylor-Green: vorticity 2 k u0 sin kx sin ky, div 0
local tg = field.taylor_green{u0 = 1.7, k = 2}
T.eq(tg.kind, "taylor_green")
T.allclose(tg{pi / 8, pi / 3}, {1.7 * math.sin(pi / 4) * math.cos(2 * pi / 3),
  -1.7 * math.cos(pi / 4) * math.sin(2 * pi / 3)}, 1e-15)
check_jac(tg, pts2, 1e-7, "Taylor-Green")
local xs, ys = pts2:col(1), pts2:col(2)
T.allclose(tg:curl(pts2), (xs * 2):sin() * (ys * 2):sin() * (2 * 2 * 1.7), 1e-14, "Taylor-Green vorticity")
T.allclose(tg:div(pts2), array.zeros(50), 0)
local tg3 = field.taylor_green{dim = 3}
check_jac(tg3, pts3, 1e-7, "Taylor-Green 3-D")
T.allclose(plain(tg3):div(pts3), array.zeros(50), 1e-9, "3-D Taylor-Green: div 0 by differences")

-- ABC flow: Beltrami, curl u = u (exact and by differences)
local abc = field.abc{A = 1.2, B = 0.7, C = -0.4}
T.allclose(abc{0, 0, 0}, {-0.4, 1.2, 0.7}, 0, "ABC at the origin")
check_jac(abc, pts3, 1e-7, "ABC")
T.allclose(abc:curl(pts3), abc(pts3), 1e-14, "curl u = u")
local cfd = plain(abc):curl(pts3)
T.eq(cfd.exact, false)
T.allclose(cfd, abc(pts3), 1e-8, "curl u = u by differences")

-- gauge field on a Gaussian score (reference V3, V5)
local c, ag = 0.8, 1.3
local s = field.linear{A = {{-1 / c, 0}, {0, -1 / c}}}
local r = field.gauge{A = {{0, -ag}, {ag, 0}}, score = s}
T.eq(r.kind, "gauge"); T.eq(r.time_dependent, false)
T.allclose(r{1, 2}, {ag * 2 / c, -ag / c}, 1e-15, "r = a (y/c, -x/c)")
T.allclose(r:curl(pts2), array.full(50, -2 * ag / c), 1e-14, "curl r = -2a/c")
T.allclose(r:div(pts2) + (r(pts2) * s(pts2)):sum(2), array.zeros(50), 1e-14, "div(p r) = 0")
T.near(circulation(r, 0, 0, 1.7, 16), -2 * pi * ag * 1.7 ^ 2 / c, 1e-13, "V5 circulation")
T.eq(r:jacobian{1, 2}.exact, true, "exact when the score's Jacobian is")
local rfd = field.gauge{A = {{0, -ag}, {ag, 0}}, score = plain(s)}
T.eq(rfd:jacobian{1, 2}.exact, false, "differenced when the score's is")

-- gauge field on a GMM score: div(p r) = 0 and curl r = a Lap log p (3 components, 2-D)
local g = field.gmm{means = {{0, 0}, {2, 1}, {-1, 2}}, covs = {0.5, 0.8, 0.3}, weights = {1, 2, 1}}
local gs = g:score_field()
local rg = field.gauge{A = {{0, -ag}, {ag, 0}}, score = gs}
T.eq(rg:jacobian(pts2).exact, true)
T.allclose(rg:div(pts2) + (rg(pts2) * gs(pts2)):sum(2), array.zeros(50), 1e-12, "GMM: div(p r) = 0")
T.allclose(rg:curl(pts2), g:logp():laplacian(pts2) * ag, 1e-12, "GMM: curl r = a Lap log p")
check_jac(rg, pts2, 1e-6, "gauge on a GMM")

-- potentials: values, exact gradient/Hessian/Laplacian, closed forms
local G, M, b = 1.3, 2.1, 0.7
local pl = field.plummer{M = M, b = b, G = G}
T.eq(pl.kind, "plummer"); T.eq(pl.dim, 3); T.eq(pl.codim, 1)
T.near(pl{0, 0, 0}[1], -G * M / b, 1e-15, "Plummer Phi(0)")
T.near(pl{3, 4, 0}[1], -G * M / math.sqrt(25 + b * b), 1e-15, "Plummer Phi at r = 5")
check_jac(pl, pts3, 1e-7, "Plummer gradient")
local H = pl:hessian(pts3)
T.eq(H.exact, true)
T.allclose(H, plain(pl):hessian(pts3), 1e-5, "Plummer Hessian vs second differences")
local rr = (pts3 * pts3):sum(2)
local rho = ((rr / (b * b) + 1) ^ -2.5) * (3 * M / (4 * pi * b ^ 3))
T.allclose(pl:laplacian(pts3), rho * (4 * pi * G), 1e-13, "Plummer Poisson")
local vc2 = (pl:grad()(pts3) * pts3):sum(2)
T.allclose(vc2, rr * (G * M) / (rr + b * b) ^ 1.5, 1e-14, "Plummer v_c^2")

local hq = field.hernquist{M = M, a = 0.9, G = G}
check_jac(hq, pts3, 1e-7, "Hernquist gradient")
local rad = rr:sqrt()
T.allclose(hq:laplacian(pts3), (rad * (rad + 0.9) ^ 3) ^ -1 * (4 * pi * G * M * 0.9 / (2 * pi)), 1e-12,
  "Hernquist Poisson")
T.allclose(hq:jacobian{0, 0, 0}, {{0, 0, 0}}, 0, "Hernquist: gradient 0 at the cusp")
T.eq(hq:laplacian{0, 0, 0}, math.huge, "Hernquist: Laplacian +inf at the cusp")

local iso = field.isochrone{M = M, b = b, G = G}
check_jac(iso, pts3, 1e-7, "isochrone gradient")
T.near(iso{0, 0, 0}[1], -G * M / (2 * b), 1e-15, "isochrone Phi(0)")
T.allclose(iso:hessian{0, 0, 0}, array.eye(3) * (G * M / (4 * b ^ 3)), 1e-15, "isochrone Hessian at 0")

local rs = 1.6
local nfw = field.nfw{M = M, rs = rs, G = G}
check_jac(nfw, pts3, 1e-7, "NFW gradient")
local menc = (nfw:grad()(pts3) * pts3):sum(2) * rad / G
local u = rad / rs
T.allclose(menc, ((u + 1):log() - u / (u + 1)) * M, 1e-13, "NFW enclosed mass")
T.near(nfw:jacobian{1e-12, 0, 0}[1][1], G * M / (2 * rs * rs), 1e-10, "NFW gradient just off the cusp")
T.near(nfw{0, 0, 0}[1], -G * M / rs, 1e-15, "NFW Phi(0)")

-- far field G M x / r^3
T.allclose(field.hernquist{a = 0.5}:jacobian{3e7, -4e7, 1.2e8},
  {{3e7 / 1.3e8 ^ 3, -4e7 / 1.3e8 ^ 3, 1.2e8 / 1.3e8 ^ 3}}, 1e-8, "far field")

-- other dimensions
local pl2 = field.plummer{dim = 2}
T.eq(pl2.dim, 2)
T.allclose(pl2:laplacian(pts2), plain(pl2):laplacian(pts2), 1e-5, "2-D Plummer Laplacian")

local hm = field.harmonic{omega = {1, 2, 0.5}}
T.eq(hm.kind, "harmonic")
T.near(hm{1, -1, 2}[1], 0.5 * (1 + 4 + 1), 0, "harmonic Phi")
T.allclose(hm:jacobian{1, -1, 2}, {{1, -4, 0.5}}, 0, "harmonic gradient")
T.eq(hm:laplacian{1, 2, 3}, 5.25)
T.eq(field.harmonic{omega = 2, dim = 4}:laplacian{0, 0, 0, 0}, 16)

-- option validation: unknown names, shapes, values
T.raises(function() field.plummer{mass = 1} end, "unknown option 'mass'")
T.raises(function() field.plummer{M = -1} end, "field.plummer", "mass M must be positive")
T.raises(function() field.hernquist{a = 0} end, "field.hernquist", "scale radius a")
T.raises(function() field.nfw{rs = "big"} end, "option 'rs' must be a number")
T.raises(function() field.linear{} end, "option 'A'")
T.raises(function() field.linear{A = {1, 2}} end, "option 'A' must be a non-empty matrix")
T.raises(function() field.linear{A = {{1, 2}}, b = {1, 2}} end, "option 'b' must be a vector of 1 numbers")
T.raises(function() field.gauge{A = {{0, 1}, {1, 0}}, score = s} end, "field.gauge", "not skew-symmetric")
T.raises(function() field.gauge{A = {{0, 1}, {-1, 0}}, score = 3} end, "option 'score' must be a Field")
T.raises(function() field.gauge{A = {{0, 1, 0}, {-1, 0, 0}, {0, 0, 0}}, score = s} end, "field.gauge",
  "score field has dimension 2")
T.raises(function() field.rotation{dim = 2, axis = {0, 0, 1}} end, "option 'dim' must be 3")
T.raises(function() field.rotation{axis = {0, 0, 0}} end, "field.rotation", "axis")
T.raises(function() field.vortex{core = -1} end, "field.vortex", "core radius")
T.raises(function() field.vortex{center = {1, 2, 3}} end, "option 'center' must be 2 numbers")
T.raises(function() field.taylor_green{dim = 4} end, "option 'dim' must be 2 or 3")
T.raises(function() field.harmonic{omega = {1, 2}, dim = 3} end, "'omega' has 2 frequencies")
T.raises(function() field.harmonic{omega = {1, 0}} end, "field.harmonic", "omega[2]")
