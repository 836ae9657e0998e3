-- a path pair whose endpoints coincide
-- expect: check.path_independence: pair 2 has equal endpoints
check.path_independence(field.rotation{}, {pairs = {a = {{0, 0}, {1, 1}}, b = {{1, 0}, {1, 1}}}})
