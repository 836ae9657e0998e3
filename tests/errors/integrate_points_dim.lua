-- initial points of the wrong dimension
-- expect: integrate.ode: points have dimension 3, the field takes 2
integrate.ode{field = field.rotation{}, x0 = array.zeros{4, 3}, t1 = 1, steps = 2}
