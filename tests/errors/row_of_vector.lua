-- a 1-D array has no rows
-- expect: row
-- expect: has no rows
array.zeros(3):row(1)
