-- a density that vanishes somewhere is refused
-- expect: decomp.weighted: the density must be positive
-- expect: p = 0 at node
local g = field.grid{n = {8, 8}, box = {0, 1}, periodic = true}
local p = field.fn(function(x) return x:col(1) end, {dim = 2, codim = 1})
decomp.weighted(g, p)
