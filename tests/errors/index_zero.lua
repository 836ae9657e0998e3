-- index 0 is not an element
-- expect: index 0 out of range
local v = array.zeros(3); print(v[0])
