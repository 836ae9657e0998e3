-- solve needs a square matrix
-- expect: array.solve
-- expect: (2,3)
array.solve(array.zeros{2, 3}, array.zeros(2))
