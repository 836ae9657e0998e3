-- a bounded split needs 3 nodes per axis
-- expect: decomp.helmholtz
-- expect: boundary "normal" needs at least 3 nodes per axis (axis 2 has 2)
local g = field.grid{n = {8, 2}}
decomp.helmholtz(g, {boundary = "normal"})
