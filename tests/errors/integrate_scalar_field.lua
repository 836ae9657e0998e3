-- the right-hand side must be a vector field
-- expect: integrate.ode: the field must map R^d to R^d (a velocity), not R^3 to R^1
integrate.ode{field = field.plummer{}, x0 = {1, 0, 0}, t1 = 1, steps = 10}
