-- adding variables whose shapes do not broadcast
-- expect: ad: add
-- expect: (2,3)
-- expect: (3,2)
local x = ad.var(array.zeros{2, 3})
local y = ad.var(array.zeros{3, 2})
print(x + y)
