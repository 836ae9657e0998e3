-- det of a vector
-- expect: array.det
array.det(array.zeros(3))
