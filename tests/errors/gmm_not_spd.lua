-- a covariance that is not positive definite is named by its component
-- expect: field.gmm
-- expect: component 2
-- expect: not positive definite
local g = field.gmm{means = {{0, 0}, {1, 1}}, covs = {{{1, 0}, {0, 1}}, {{1, 2}, {2, 1}}}}
