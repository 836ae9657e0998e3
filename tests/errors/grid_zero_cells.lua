-- a grid axis without nodes
-- expect: field.grid
-- expect: axis 1 has 0 nodes
-- expect: at least 2
local g = field.grid{n = {0, 4}}
