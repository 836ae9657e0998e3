-- assigning a parameter the wrong number of values
-- expect: ad: set: 3 values for a (2,2) parameter
local p = ad.param(array.zeros{2, 2})
p:set{1, 2, 3}
