-- a bounded-box choice on a periodic grid
-- expect: decomp.helmholtz
-- expect: boundary "natural" needs a grid non-periodic on every axis (axis 1 is periodic
local g = field.grid{n = {8, 8}, periodic = true}
decomp.helmholtz(g, {boundary = "natural"})
