-- the EDM stochastic sampler needs alpha = 1
-- expect: sample.sde
-- expect: alpha = 1
local vp = diffusion.vp()
sample.sde{field = vp:noised(field.gaussian{mean = {0, 0}}).score, kind = "score", schedule = vp, n = 10,
           solver = "edm", steps = 10, grid = "t"}
