-- a scripted field returning NaN
-- expect: returned NaN at point 1
local f = field.fn(function(x) return x * (0/0) end, {dim = 2}); f{1, 2}
