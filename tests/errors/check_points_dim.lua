-- points of the wrong dimension for the field
-- expect: check.jacobian: points have dimension 3, the field takes 2
check.jacobian(field.rotation{}, {points = array.zeros{5, 3}})
