-- a single point of the wrong dimension
-- expect: a point has 3 coordinates, the field takes 2
local f = field.fn(function(x) return x end, {dim = 2}); f{1, 2, 3}
