-- rk45 is adaptive: a step count makes no sense
-- expect: rk45 is adaptive
local vp = diffusion.vp()
sample.ode{field = vp:noised(field.gaussian{mean = {0, 0}}).velocity, n = 10, solver = "rk45", steps = 10}
