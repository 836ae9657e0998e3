-- CG that does not converge within maxiter is an error stating the residual reached
-- expect: decomp.weighted: conjugate gradients did not converge in 2 iterations
-- expect: relative residual
-- expect: tol 1e-10
local g = field.sample(field.fn(function(x) return array.stack({x:col(2):sin(), x:col(1):cos() * x:col(2):sin()}, 2) end, {dim = 2}),
  {n = {32, 32}, box = {0, 2 * math.pi}, periodic = true})
local p = field.fn(function(x) return (x:col(1):cos() + x:col(2):cos() * 0.5):exp() end, {dim = 2, codim = 1})
decomp.weighted(g, p, {maxiter = 2})
