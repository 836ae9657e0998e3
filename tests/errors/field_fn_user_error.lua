-- an error inside a scripted field is the user's own
-- expect: the user said no
local f = field.fn(function(x) error("the user said no") end, {dim = 2}); f:jacobian{1, 2}
