-- the parametrisations are eps, x0, score and velocity
-- expect: unknown parametrisation 'v'
-- expect: valid: eps, x0, score, velocity
local s = diffusion.linear()
local x = array.zeros{3, 2}
local r = s:convert(x, x, 0.5, "eps", "v")
