-- unknown option names are errors
-- expect: unknown option 'spacing'
-- expect: valid: n, box, periodic, components, interp, values
local g = field.grid{n = {8}, spacing = 0.1}
