-- 1-D grids are not decomposed
-- expect: decomp.helmholtz
-- expect: a 1-D grid has no Helmholtz-Hodge decomposition (2-D or 3-D grids only)
local g = field.grid{n = 16, periodic = true}
decomp.helmholtz(g)
