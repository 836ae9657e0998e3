-- points of the wrong dimension
-- expect: eval: points have dimension 3, the field takes 2
local f = field.fn(function(x) return x end, {dim = 2}); f(array.zeros{5, 3})
