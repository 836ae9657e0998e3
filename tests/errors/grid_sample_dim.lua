-- the grid must have the field's dimension
-- expect: field.sample
-- expect: the field has dimension 2, the grid 3
local g = field.sample(field.rotation{}, {n = {4, 4, 4}})
