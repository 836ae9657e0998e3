-- an unknown method lists the valid ones
-- expect: unknown method 'rk45'
-- expect: dopri5
integrate.ode{field = field.rotation{}, x0 = {1, 0}, t1 = 1, method = "rk45"}
