-- a NaN mean
-- expect: field.gmm
-- expect: mean of component 1
-- expect: non-finite
local g = field.gmm{means = {{0, 0 / 0}}}
