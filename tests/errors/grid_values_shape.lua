-- values that do not match n and components
-- expect: field.grid: values have shape (4,5,2)
-- expect: expected (4,4,2)
local g = field.grid{n = {4, 4}, values = array.zeros{4, 5, 2}}
