-- the gauge matrix must match the score field's dimension
-- expect: field.gauge: A is 3 x 3 but the score field has dimension 2
local s = field.linear{A = {{-1, 0}, {0, -1}}}
field.gauge{A = {{0, 1, 0}, {-1, 0, 0}, {0, 0, 0}}, score = s}
