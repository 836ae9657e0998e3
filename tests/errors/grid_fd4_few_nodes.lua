-- 4th-order one-sided wall stencils need 5 nodes
-- expect: g:partial
-- expect: order-4 finite differences on non-periodic axis 1 need at least 5 nodes (it has 4)
local g = field.grid{n = {4}, components = 1}
local d = g:partial(1, {order = 4})
