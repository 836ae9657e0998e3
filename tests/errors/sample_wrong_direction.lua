-- sampling runs from t_max down to t_min
-- expect: sample.ode
-- expect: t_max (0.1) must be greater than t_min (0.5)
local lin = diffusion.linear()
sample.ode{field = lin:noised(field.gaussian{mean = {0, 0}}).velocity, schedule = lin, n = 10,
           solver = "euler", steps = 10, t_max = 0.1, t_min = 0.5}
