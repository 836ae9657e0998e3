-- the periodic split needs every axis periodic
-- expect: decomp.helmholtz
-- expect: the periodic split needs a grid periodic on every axis (axis 2 is not)
local g = field.grid{n = {8, 8}, periodic = {true, false}}
decomp.helmholtz(g, {boundary = "periodic"})
