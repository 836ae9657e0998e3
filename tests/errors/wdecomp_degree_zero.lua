-- a polynomial potential needs degree >= 1 (the constant has no gradient)
-- expect: bad argument #3 to 'weighted'
-- expect: option 'degree' must be an integer >= 1
local v = field.fn(function(x) return x end, {dim = 2})
decomp.weighted(v, array.randn{100, 2}, {degree = 0})
