-- arrows need a vector field on the plane
-- expect: plot.quiver: the field must map R^2 to R^2, not R^2 to R^1
local f = field.fn(function(x) return x:col(1) end, {dim = 2, codim = 1})
plot.quiver(f, {file = "q.png"})
