-- one node spans no cell
-- expect: field.grid: axis 2 has 1 nodes
-- expect: at least 2 per axis
local g = field.grid{n = {4, 1}, box = {0, 1}}
