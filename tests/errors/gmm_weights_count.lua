-- one weight per component
-- expect: field.gmm
-- expect: option 'weights' must hold 2 numbers
local g = field.gmm{means = {{0, 0}, {1, 1}}, weights = {1, 2, 3}}
