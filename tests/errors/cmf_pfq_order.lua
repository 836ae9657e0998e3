-- pFq whose ODE has order 1: no 2x2 field
-- expect: cmf.pfq: the ODE of 1F0
-- expect: has order 1
cmf.pfq(1, 0)
