-- a misspelt option of ad.grad
-- expect: unknown option 'create_grpah'
-- expect: create_graph
local x = ad.var{{1, 2}}
ad.grad((x * x):sum(), x, {create_grpah = true})
