-- t1 == t0 leaves nothing to integrate
-- expect: integrate.ode: t1 equals t0
integrate.ode{field = field.rotation{}, x0 = {1, 0}, t0 = 1, t1 = 1, steps = 10}
