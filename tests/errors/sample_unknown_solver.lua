-- an unknown solver name is an error listing the valid ones
-- expect: unknown solver 'dpm3'
-- expect: dpm++2m
local vp = diffusion.vp()
sample.ode{field = vp:noised(field.gaussian{mean = {0, 0}}).velocity, n = 10, solver = "dpm3", steps = 10}
