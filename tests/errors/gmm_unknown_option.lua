-- an unknown option name is an error
-- expect: unknown option 'weight'
-- expect: valid: means, covs, cov, weights
local g = field.gmm{means = {{0, 0}}, weight = {1}}
