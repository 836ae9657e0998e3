-- masses must be positive
-- expect: field.hernquist: the mass M must be positive
field.hernquist{M = -1}
