-- scale radii must be positive
-- expect: field.nfw: the scale radius rs must be positive
field.nfw{rs = 0}
