-- backward of a variable that is not 1 x 1
-- expect: backward needs a scalar (1,1) output
-- expect: (2,3)
local x = ad.var(array.ones{2, 3})
ad.backward(x * x)
