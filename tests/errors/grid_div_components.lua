-- divergence of a scalar grid
-- expect: g:grid_div
-- expect: divergence needs as many components as axes (grid 2-D, 1 components)
local g = field.grid{n = {8, 8}, components = 1}
local d = g:grid_div()
