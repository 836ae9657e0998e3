-- a scalar grid has no Helmholtz decomposition
-- expect: decomp.helmholtz
-- expect: needs 2 components, this grid has 1 (a scalar grid)
local g = field.grid{n = {8, 8}, periodic = true, components = 1}
decomp.helmholtz(g)
