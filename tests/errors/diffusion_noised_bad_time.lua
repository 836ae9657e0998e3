-- a time where the VP schedule gives sigma^2 < 0
-- expect: t = -0.01
-- expect: not a noise level
local pt = diffusion.vp():noised(field.gaussian{mean = {0, 0}})
print(pt.score({0, 0}, -0.01))
