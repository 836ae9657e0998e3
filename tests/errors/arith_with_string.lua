-- arithmetic with a string
-- expect: fieldlab.Array, table or number expected
local x = array.zeros(2) + "x"
