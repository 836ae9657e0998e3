-- loops of zero radius
-- expect: check.circulation: loops of radius 0
-- expect: every radius must be positive
check.circulation(field.rotation{}, {centers = {{0, 0}, {1, 1}}, radii = {0.5, 0}})
