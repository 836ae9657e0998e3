-- an error raised by the cost is re-raised as it is
-- expect: my cost failed
local lin = diffusion.linear()
sample.flowchef{field = lin:noised(field.gaussian{mean = {0, 0}}).velocity, n = 5, steps = 4,
                cost = function(x) error("my cost failed") end}
