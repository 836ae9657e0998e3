-- integrate: orders of accuracy on exact problems, V7 amplification,
-- adaptive tolerance, recording, leapfrog energy and Yoshida order,
-- Ornstein-Uhlenbeck statistics and thread independence, the variational
-- equation, Lua fields and observers.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

-- dx/dt = A x, A = [[-a, w], [-w, -a]]: exp(At) = e^{-at} [[cos wt, sin wt], [-sin wt, cos wt]]
local a, w = 0.5, 1.0
local lin = field.linear{A = {{-a, w}, {-w, -a}}}
local X0 = array.from{{1, 0}, {0.3, -0.7}, {-1.2, 0.4}}
local function exact(t)
  local e, c, s = math.exp(-a * t), math.cos(w * t), math.sin(w * t)
  return X0:matmul(array.from{{e * c, -e * s}, {e * s, e * c}})
end

local function slope(errs, Ns)
  local sx, sy, sxx, sxy, n = 0, 0, 0, 0, #Ns
  for i = 1, n do
    local x, y = math.log(1 / Ns[i]), math.log(errs[i])
    sx, sy, sxx, sxy = sx + x, sy + y, sxx + x * x, sxy + x * y
  end
  return (n * sxy - sx * sy) / (n * sxx - sx * sx)
end

local want = exact(2)
for _, c in ipairs{{"euler", 1, 40}, {"heun", 2, 20}, {"midpoint", 2, 20}, {"rk4", 4, 10}} do
  local errs, Ns = {}, {}
  for l = 0, 3 do
    local N = c[3] * 2 ^ l
    local r = integrate.ode{field = lin, x0 = X0, t1 = 2, method = c[1], steps = N}
    T.eq(r.steps, N, c[1] .. " steps")
    Ns[#Ns + 1] = N
    errs[#errs + 1] = (r.x - want):abs():max()
  end
  local p = slope(errs, Ns)
  assert(math.abs(p - c[2]) <= 0.15, c[1] .. ": fitted order " .. p)
end

-- V7: one step on the rotation: |x1|^2 = (1 + z^2) |x0|^2 (Euler), (1 + z^4/4) (Heun)
local rot = field.rotation{omega = 1}
for _, z in ipairs{0.1, 0.7, 1.5} do
  local e = integrate.ode{field = rot, x0 = {0.6, -0.8}, t1 = z, method = "euler", steps = 1}.x
  local h = integrate.ode{field = rot, x0 = {0.6, -0.8}, t1 = z, method = "heun", steps = 1}.x
  T.near(e[1] ^ 2 + e[2] ^ 2, 1 + z ^ 2, 1e-15, "Euler amplification")
  T.near(h[1] ^ 2 + h[2] ^ 2, 1 + z ^ 4 / 4, 1e-15, "Heun amplification")
end

-- dopri5: error follows the tolerance, steps fall as it loosens, dense output at record times
local prev
for _, tol in ipairs{1e-10, 1e-8, 1e-6, 1e-4} do
  local r = integrate.ode{field = lin, x0 = X0, t1 = 5, rtol = tol, atol = tol, record = {0.5, 2.5}}
  local err = (r.x - exact(5)):abs():max()
  assert(err < 20 * tol and err > 1e-4 * tol, "dopri5 error " .. err .. " at tol " .. tol)
  T.allclose(r.trajectory[2], exact(2.5), 50 * tol, "dense output at 2.5")
  T.eq(r.times[1], 0.5)
  if prev then assert(r.steps < prev, "steps should fall as rtol loosens") end
  prev = r.steps
  T.eq(r.method, "dopri5")
end

-- recording: every 3 of 10 steps -> t0, 3, 6, 9 and the end; times are exact
local r = integrate.ode{field = lin, x0 = X0, t1 = 1, steps = 10, record = 3}
T.eq(r.trajectory.shape[1], 5); T.eq(r.trajectory.shape[2], 3); T.eq(r.trajectory.shape[3], 2)
T.allclose(r.times, {0, 0.3, 0.6, 0.9, 1.0}, 1e-15, "record times")
T.allclose(r.trajectory[5], r.x, 0, "last record is the final state")
T.eq(r.interrupted, false)
assert(tostring(r):find("integrate.ode result: rk4, 3 particles in R^2", 1, true), tostring(r))

-- a Lua field (one call per stage on all particles) gives the same numbers as the C field
local calls = 0
local luaf = field.fn(function(x, t) calls = calls + 1; return lin(x, t) end, {dim = 2})
local rl = integrate.ode{field = luaf, x0 = X0, t1 = 1, steps = 10}
T.allclose(rl.x, r.x, 1e-15, "Lua field")
T.eq(calls, 40, "one Lua call per stage")

-- observer: called at each record point with the state; its error is the user's own
local seen = {}
integrate.ode{field = lin, x0 = X0, t1 = 1, steps = 4, observer = function(t, x)
  seen[#seen + 1] = t; T.eq(x.shape[1], 3)
end}
T.eq(#seen, 5, "observer every step")
T.raises(function()
  integrate.ode{field = lin, x0 = X0, t1 = 1, steps = 4, observer = function(t) if t > 0.4 then error("stop here") end end}
end, "stop here")

-- leapfrog in a Plummer potential: the energy error stays bounded over 10^5 steps
local pot = field.plummer{M = 1, b = 1, dim = 2}
local acc = -pot:grad()
local lf = integrate.symplectic{force = acc, potential = pot, q0 = {1.5, 0}, p0 = {0, 0.35},
                                t1 = 2000, steps = 100000, record = 100}
T.eq(lf.evals, 100001)
local E = lf.energy
local n = E.shape[1]
T.eq(n, 1001)
local E0, early, all = E[1], 0, 0
for k = 1, n do
  local d = math.abs(E[k] - E0)
  if k <= 100 then early = math.max(early, d) end
  all = math.max(all, d)
end
assert(all <= 1.5 * early, ("energy drifts: %g in the first tenth, %g overall"):format(early, all))
assert(all < 1e-3 * math.abs(E0) and early > 1e-9, "energy error " .. all)
local L = lf.angular_momentum
T.near(L[n], L[1], 1e-10, "angular momentum")

-- Yoshida 4 on a harmonic oscillator converges at 4th order, leapfrog at 2nd
local om = 1.3
local hpot = field.harmonic{omega = {om}}
local function serr(method, N)
  local s = integrate.symplectic{force = -hpot:grad(), q0 = {1}, p0 = {0.5}, t1 = 3, steps = N, method = method}
  return math.max(math.abs(s.q[1] - (math.cos(om * 3) + 0.5 / om * math.sin(om * 3))),
                  math.abs(s.p[1] - (-om * math.sin(om * 3) + 0.5 * math.cos(om * 3))))
end
for _, c in ipairs{{"leapfrog", 2, 20}, {"yoshida4", 4, 10}} do
  local errs, Ns = {}, {}
  for l = 0, 3 do Ns[#Ns + 1] = c[3] * 2 ^ l; errs[#errs + 1] = serr(c[1], Ns[#Ns]) end
  local p = slope(errs, Ns)
  assert(math.abs(p - c[2]) <= 0.15, c[1] .. ": fitted order " .. p)
end

-- Ornstein-Uhlenbeck by Euler-Maruyama: stationary mean 0 and EM's own variance 1/(theta (2 - theta h))
local n_ou, h = 20000, 0.02
local ou = {drift = field.linear{A = {{-1, 0}, {0, -1}}}, diffusion = 1, x0 = array.full({n_ou, 2}, 2),
            t1 = 10, steps = 500, seed = 5}
fieldlab.set_threads(2)
local s2 = integrate.sde(ou)
fieldlab.set_threads(1)
local s1 = integrate.sde(ou)
fieldlab.set_threads(2)
T.allclose(s1.x, s2.x, 0, "same seed, 1 and 2 threads")
local m, v = s2.x:mean(), s2.x:std() ^ 2
local vstat, N2 = 1 / (2 - h), 2 * n_ou
assert(math.abs(m) < 3 * math.sqrt(vstat / N2), "OU mean " .. m)
assert(math.abs(v - vstat) < 3 * vstat * math.sqrt(2 / N2), "OU variance " .. v)
ou.seed = 6
assert((integrate.sde(ou).x - s2.x):abs():max() > 0.1, "another seed, other paths")

-- the variational equation of a linear field is exp(At)
local vr = integrate.variational{field = lin, x0 = X0, t1 = 2, steps = 200}
local e, c, s = math.exp(-a * 2), math.cos(2), math.sin(2)
for i = 1, 3 do T.allclose(vr.Y[i], {{e * c, e * s}, {-e * s, e * c}}, 1e-9, "Y = exp(At)") end
T.eq(vr.Y.exact, true)
T.allclose(vr.x, exact(2), 1e-8, "x alongside")
