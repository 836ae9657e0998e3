-- a fixed-step method needs a step count
-- expect: method 'rk4' takes fixed steps: give steps=
integrate.ode{field = field.rotation{}, x0 = {1, 0}, t1 = 1, method = "rk4"}
