-- the density grid must be the field's grid
-- expect: decomp.weighted: mismatched grids
-- expect: the density is on 16 on [0, 1] periodic x 16 on [0, 1] periodic
-- expect: the field on 8 on [0, 1] periodic x 8 on [0, 1] periodic
local g = field.grid{n = {8, 8}, box = {0, 1}, periodic = true}
local p = field.grid{n = {16, 16}, box = {0, 1}, periodic = true, components = 1, values = array.ones{16, 16}}
decomp.weighted(g, p)
