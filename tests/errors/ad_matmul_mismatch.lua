-- matrix product with inner dimensions that differ
-- expect: ad: matmul
-- expect: shapes (2,3) and (2,3) are not aligned
local x = ad.var(array.ones{2, 3})
print(x:matmul(x))
