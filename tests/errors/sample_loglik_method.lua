-- an unknown divergence method
-- expect: unknown method 'skilling'
local lin = diffusion.linear()
sample.loglik{field = lin:noised(field.gaussian{mean = {0, 0}}).velocity, schedule = lin, x = {{0, 0}},
              method = "skilling"}
