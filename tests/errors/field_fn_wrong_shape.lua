-- a scripted field returning the wrong shape
-- expect: returned an array of shape (7)
-- expect: expected (1,2)
local f = field.fn(function(x) return array.zeros(7) end, {dim = 2}); f{1, 2}
