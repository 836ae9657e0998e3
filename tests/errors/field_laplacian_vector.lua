-- the Laplacian of a vector field
-- expect: laplacian
-- expect: needs a scalar field
local f = field.fn(function(x) return x end, {dim = 2}); f:laplacian{1, 2}
