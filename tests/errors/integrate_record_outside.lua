-- record times must lie within the run
-- expect: integrate.ode: record time 2 (3) is outside the interval from t0 = 0 to t1 = 1
integrate.ode{field = field.rotation{}, x0 = {1, 0}, t1 = 1, steps = 10, record = {0.5, 3}}
