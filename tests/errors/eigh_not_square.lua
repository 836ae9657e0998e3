-- eigh needs a square matrix
-- expect: array.eigh
array.eigh(array.zeros{3, 2})
