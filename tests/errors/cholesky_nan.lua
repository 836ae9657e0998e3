-- NaN into cholesky
-- expect: array.cholesky
-- expect: NaN
array.cholesky(array.from{{1, 0}, {0, 0 / 0}})
