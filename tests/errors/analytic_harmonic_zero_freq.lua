-- harmonic frequencies must be positive
-- expect: field.harmonic: frequency omega[2] must be positive
field.harmonic{omega = {1, 0, 1}}
