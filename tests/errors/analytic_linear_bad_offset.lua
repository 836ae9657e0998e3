-- the offset b must have one entry per row of A
-- expect: option 'b' must be a vector of 2 numbers (A has 2 rows)
field.linear{A = {{1, 0, 0}, {0, 1, 0}}, b = {1, 2, 3}}
