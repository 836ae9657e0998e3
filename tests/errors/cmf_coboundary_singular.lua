-- a coboundary by a singular matrix
-- expect: CMF:coboundary: U is singular (det U = 0 identically)
local x = poly.var("x")
cmf.known.zeta3():coboundary{{x, 2 * x}, {1, 2}}
