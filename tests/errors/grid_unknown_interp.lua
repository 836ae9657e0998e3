-- an interpolation that does not exist
-- expect: option 'interp' must be "linear" or "cubic"
-- expect: quintic
local g = field.grid{n = {8, 8}, interp = "quintic"}
