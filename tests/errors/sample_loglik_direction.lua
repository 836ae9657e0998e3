-- the likelihood integrates from t_min up to t_max
-- expect: sample.loglik
-- expect: t_max (0.2) must be greater than t_min (0.6)
local lin = diffusion.linear()
sample.loglik{field = lin:noised(field.gaussian{mean = {0, 0}}).velocity, schedule = lin, x = {{0, 0}},
              t_min = 0.6, t_max = 0.2}
