-- a singular system
-- expect: array.solve
-- expect: singular
array.solve(array.from{{1, 2}, {2, 4}}, array.from{1, 2})
