-- a log-SNR grid cannot reach t = 0 of the linear path (lambda = +inf)
-- expect: sample.ode
-- expect: finite log-SNR
local lin = diffusion.linear()
sample.ode{field = lin:noised(field.gaussian{mean = {0, 0}}).velocity, schedule = lin, n = 10,
           solver = "dpm++2m", steps = 10, t_max = 0.9}
