-- a step count of zero is an error
-- expect: option 'steps' must be a positive integer
local vp = diffusion.vp()
sample.sde{field = vp:noised(field.gaussian{mean = {0, 0}}).score, kind = "score", n = 10, steps = 0}
