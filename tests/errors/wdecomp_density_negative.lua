-- a density with zeros or negatives is refused, naming the node
-- expect: decomp.weighted: the density must be positive and finite at every node
-- expect: p = -0.5 at node (3, 1)
local g = field.grid{n = {8, 8}, box = {0, 1}, periodic = true}
local p = field.grid{n = {8, 8}, box = {0, 1}, periodic = true, components = 1, values = array.ones{8, 8}}
p.values:set(3, 1, -0.5)
decomp.weighted(g, p)
