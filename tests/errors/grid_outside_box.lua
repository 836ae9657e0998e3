-- evaluation outside a non-periodic box is an error, never extrapolation
-- expect: point 1 of 1 (2, 0.5) is outside the grid box [0, 1] x [0, 1]
-- expect: axis 1 is not periodic
local g = field.grid{n = {8, 8}}
print(g{2, 0.5})
