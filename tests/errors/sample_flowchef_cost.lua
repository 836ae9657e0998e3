-- the cost's gradient must have the particles' shape
-- expect: the cost must return (L, grad)
local lin = diffusion.linear()
sample.flowchef{field = lin:noised(field.gaussian{mean = {0, 0}}).velocity, n = 5, steps = 4,
                cost = function(x) return 0, array.zeros{3} end}
