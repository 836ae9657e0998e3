-- a 3-component field on a 2-D grid
-- expect: decomp.helmholtz
-- expect: a vector field on a 2-D grid needs 2 components, this grid has 3
local g = field.grid{n = {8, 8}, periodic = true, components = 3}
decomp.helmholtz(g)
