-- a blow-up names the step, the particle and the component, and keeps the records
-- expect: integrate.ode: non-finite state at step 1 (t = 0.02), particle 2, component 1
-- expect: the 1 records so far are in integrate.partial
local f = field.linear{A = {{1e200}}}
integrate.ode{field = f, x0 = {{0}, {1}, {0}}, t1 = 2, steps = 100, method = "rk4", record = 10}
