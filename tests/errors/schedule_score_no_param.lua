-- a field that records no parametrisation, converted without saying what it predicts
-- expect: Schedule:score
-- expect: records no parametrisation
-- expect: from = 
local g = field.gmm{means = {{0, 0}, {2, 0}}, covs = 0.5}
local vp = diffusion.vp()
local v = vp:noised(g).velocity
vp:score(v)
