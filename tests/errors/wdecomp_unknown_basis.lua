-- the basis is "poly" or "fourier"
-- expect: bad argument #3 to 'weighted'
-- expect: option 'basis' must be "poly" or "fourier" (got "chebyshev")
local v = field.fn(function(x) return x end, {dim = 2})
decomp.weighted(v, array.randn{100, 2}, {basis = "chebyshev"})
