-- sample options on a grid decomposition are unknown options
-- expect: unknown option 'degree'
-- expect: valid: tol, maxiter, method, t
local g = field.grid{n = {8, 8}, box = {0, 1}, periodic = true}
decomp.weighted(g, field.gaussian{mean = {0.5, 0.5}}, {degree = 2})
