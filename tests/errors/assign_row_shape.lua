-- assigning a row of the wrong shape
-- expect: cannot assign an array of shape (2) to a row of shape (3)
local a = array.zeros{2, 3}; a[1] = array.zeros(2)
