-- on a grid, v must be a vector grid field
-- expect: decomp.weighted: the field must be a vector grid field with 2 components
local g = field.grid{n = {8, 8}, box = {0, 1}, periodic = true, components = 1}
decomp.weighted(g, field.gaussian{mean = {0.5, 0.5}})
