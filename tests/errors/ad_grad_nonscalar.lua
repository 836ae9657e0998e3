-- grad of a non-scalar output without a seed
-- expect: ad: grad: the output has shape (2,2)
local x = ad.var{{1, 2}, {3, 4}}
ad.grad(x:exp(), x)
