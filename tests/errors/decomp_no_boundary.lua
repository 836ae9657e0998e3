-- a bounded (non-periodic) grid needs a boundary choice
-- expect: decomp.helmholtz
-- expect: axis 1 of the grid is not periodic
-- expect: boundary = "natural"
-- expect: "normal"
local g = field.grid{n = {8, 8}}
decomp.helmholtz(g)
