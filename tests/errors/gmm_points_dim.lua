-- points of the wrong dimension
-- expect: GMM:score
-- expect: points have dimension 3, the field takes 2
local g = field.gaussian{mean = {0, 0}}
local s = g:score(array.zeros{4, 3})
