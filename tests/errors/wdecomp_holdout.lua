-- holdout is a fraction in [0, 1)
-- expect: decomp.weighted: holdout must be a fraction in [0, 1), not 1
local v = field.fn(function(x) return x end, {dim = 2})
decomp.weighted(v, array.randn{100, 2}, {holdout = 1})
