-- shapes that do not broadcast
-- expect: addition
-- expect: could not be broadcast
-- expect: (2,3)
local x = array.zeros{2, 3} + array.zeros{4}
