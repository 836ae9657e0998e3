-- a seed whose shape is not the output's
-- expect: ad: grad: seed of shape (1,3)
-- expect: output of shape (1,2)
local x = ad.var{{1, 2}}
ad.grad(x:tanh(), x, {seed = array.ones{1, 3}})
