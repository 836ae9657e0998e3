-- the boundary choices are named
-- expect: bad argument #2 to 'helmholtz'
-- expect: option 'boundary' must be "periodic", "natural" or "normal" (got "dirichlet")
local g = field.grid{n = {8, 8}}
decomp.helmholtz(g, {boundary = "dirichlet"})
