-- adding fields of different dimensions
-- expect: field addition
-- expect: cannot combine fields of different shapes: R^2 -> R^2 and R^3 -> R^3
local a = field.fn(function(x) return x end, {dim = 2}); local b = field.fn(function(x) return x end, {dim = 3}); local c = a + b
