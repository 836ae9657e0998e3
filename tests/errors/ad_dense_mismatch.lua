-- a dense layer whose bias row does not fit the weights
-- expect: ad: dense
-- expect: do not fit
local x = ad.var(array.zeros{4, 3})
local W, b = ad.var(array.zeros{3, 5}), ad.var(array.zeros{1, 4})
x:dense(W, b)
