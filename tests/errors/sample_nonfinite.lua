-- a prediction that overflows the state: the error names the step, the time and the particle
-- expect: sample.ode
-- expect: non-finite state at step 6 (t = 0.4)
-- expect: particle 2
local f = field.fn(function(x, t)
  local v = array.zeros{x.shape[1], 2}
  v[2][1] = 1e308
  return v
end, {dim = 2})
sample.ode{field = f, kind = "x0", schedule = diffusion.linear(), x_T = {{1, 1}, {2, 2}}, solver = "euler", steps = 10}
