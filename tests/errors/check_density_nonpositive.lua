-- a density with non-positive values at some points
-- expect: check.conservativity: the density has non-positive
-- expect: it must be positive
local p = field.fn(function(x) return x:col(1) end, {dim = 2, codim = 1})
check.conservativity(field.rotation{}, {points = array.randn({20, 2}, {seed = 1}), density = p, tests = {"weighted"}})
