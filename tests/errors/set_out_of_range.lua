-- set checks every index
-- expect: index 5 out of range 1..2
array.zeros{2, 2}:set(1, 5, 0)
