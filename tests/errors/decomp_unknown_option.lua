-- option names are checked
-- expect: bad argument #2 to 'helmholtz'
-- expect: unknown option 'potentials' (valid: boundary)
local g = field.grid{n = {8, 8}, periodic = true}
decomp.helmholtz(g, {potentials = true})
