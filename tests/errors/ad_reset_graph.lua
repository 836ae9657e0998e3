-- using a variable after ad.reset()
-- expect: ad: variable from a reset graph
local x = ad.var{{1, 2}}
ad.reset()
print((x * 2):sum())
