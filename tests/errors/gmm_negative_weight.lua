-- weights must be non-negative
-- expect: field.gmm
-- expect: weight 2 is negative
local g = field.gmm{means = {{0, 0}, {1, 1}}, weights = {1, -0.5}}
