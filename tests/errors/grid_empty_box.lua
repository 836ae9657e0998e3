-- a box with b <= a
-- expect: field.grid
-- expect: axis 1: box [1, 1] is empty
local g = field.grid{n = {8}, box = {{1, 1}}}
