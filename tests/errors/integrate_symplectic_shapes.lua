-- positions and momenta must match
-- expect: integrate.symplectic: q0 and p0 must have the same shape (3 and 2 points)
local pot = field.plummer{dim = 2}
integrate.symplectic{force = -pot:grad(), q0 = array.ones{3, 2}, p0 = array.zeros{2, 2}, t1 = 1, steps = 10}
