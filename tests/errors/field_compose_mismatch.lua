-- composing fields whose dimensions do not chain
-- expect: field.compose
-- expect: the inner field gives R^3, the outer takes R^2
local a = field.fn(function(x) return x end, {dim = 2}); local b = field.fn(function(x) return x end, {dim = 3}); field.compose(a, b)
