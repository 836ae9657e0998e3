-- the samples must have the field's dimension
-- expect: decomp.weighted: points have dimension 3, the field takes 2
local v = field.fn(function(x) return x end, {dim = 2})
decomp.weighted(v, array.randn{100, 3})
