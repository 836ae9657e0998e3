-- a scripted right-hand side that overflows: the field's own message, records kept
-- expect: integrate.ode: the field's function returned Inf at point 2
-- expect: records so far are in integrate.partial
local f = field.fn(function(x) return x * x end, {dim = 1})
integrate.ode{field = f, x0 = {{0.1}, {2}, {0.2}}, t1 = 2, steps = 100, method = "rk4", record = 10}
