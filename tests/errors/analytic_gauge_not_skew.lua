-- the gauge matrix must be skew-symmetric
-- expect: field.gauge: A is not skew-symmetric: A[1][2] = 1 but A[2][1] = 1
local s = field.linear{A = {{-1, 0}, {0, -1}}}
field.gauge{A = {{0, 1}, {1, 0}}, score = s}
