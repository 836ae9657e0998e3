-- a column range outside the variable
-- expect: ad: cols: columns 2..5 out of range for 3 columns
local x = ad.var(array.ones{2, 3})
print(x:cols(2, 5))
