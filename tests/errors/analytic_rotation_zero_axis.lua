-- a rotation axis must be a non-zero vector
-- expect: field.rotation: the rotation axis must be a finite non-zero vector
field.rotation{omega = 1, axis = {0, 0, 0}}
