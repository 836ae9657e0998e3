-- a reduction along a missing axis
-- expect: axis 3 out of range 1..2
array.zeros{2, 2}:sum(3)
