-- a divergent adaptive integration stops at the step cap
-- expect: integrate.ode: dopri5 reached max_steps = 50
local f = field.fn(function(x) return x * x end, {dim = 1})
integrate.ode{field = f, x0 = {1}, t1 = 2, max_steps = 50}
