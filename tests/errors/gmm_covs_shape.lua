-- covariances of a shape that fits no form
-- expect: field.gmm
-- expect: option 'covs' has shape (2,3,3)
local g = field.gmm{means = {{0, 0}, {1, 1}}, covs = array.zeros{2, 3, 3}}
