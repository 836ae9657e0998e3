-- 1-based index past the end
-- expect: index 4 out of range 1..3
local v = array.zeros(3); print(v[4])
