-- the field's prediction kind must be one of the four targets
-- expect: unknown kind 'noise'
local vp = diffusion.vp()
sample.ode{field = vp:noised(field.gaussian{mean = {0, 0}}).score, kind = "noise", n = 10, steps = 10}
