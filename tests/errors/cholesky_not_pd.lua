-- an indefinite matrix has no Cholesky factor
-- expect: array.cholesky
-- expect: not positive definite
array.cholesky(array.from{{1, 2}, {2, 1}})
