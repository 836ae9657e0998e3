-- grids have 1 to 3 axes
-- expect: bad argument #1 to 'grid'
-- expect: option 'n' must be 1 to 3 positive integers
local g = field.grid{n = {4, 4, 4, 4}}
