-- a step count of zero is an error, not an empty run
-- expect: option 'steps' must be a positive integer
integrate.symplectic{force = field.rotation{}, q0 = {1, 0}, p0 = {0, 1}, t1 = 1, steps = 0}
