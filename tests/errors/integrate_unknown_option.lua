-- a misspelt option of integrate.ode is an error that lists the valid ones
-- expect: unknown option 'stepz'
-- expect: valid: field, x0
integrate.ode{field = field.rotation{}, x0 = {1, 0}, t1 = 1, stepz = 10}
