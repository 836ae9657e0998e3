-- grids must be periodic on every axis (bounded boxes are refused, not guessed)
-- expect: decomp.weighted: the grid must be periodic on every axis (axis 1 is not)
local g = field.grid{n = {8, 8}, box = {0, 1}, periodic = {false, true}}
decomp.weighted(g, field.gaussian{mean = {0.5, 0.5}})
