-- inner dimensions must agree
-- expect: matmul
-- expect: (2,3)
-- expect: (4,5)
array.zeros{2, 3}:matmul(array.zeros{4, 5})
