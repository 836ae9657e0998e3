-- the plaquette test of a field with parameters
-- expect: check.matrix_field: the field has parameters (c0, c1, c2, c3)
-- expect: CMF:subs
check.matrix_field(cmf.known.cmf1(), {box = {1, 3}})
