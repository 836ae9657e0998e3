-- a parametrisation name that does not exist
-- expect: Schedule:velocity
-- expect: 'noise'
-- expect: valid: eps, x0, score, velocity
local m = net.mlp{dim = 2, hidden = {8}, time = "concat", param = "eps"}
diffusion.vp():velocity(m, {from = "noise"})
