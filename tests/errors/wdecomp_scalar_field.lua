-- v must be a vector field
-- expect: decomp.weighted: the field must be a vector field
-- expect: R^2 -> R^1
local f = field.fn(function(x) return x:col(1) end, {dim = 2, codim = 1})
decomp.weighted(f, array.randn{100, 2})
