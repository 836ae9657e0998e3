-- a loop plane spanned by two parallel vectors
-- expect: check.circulation: plane 1 is degenerate
check.circulation(field.linear{A = array.eye(3)}, {centers = {{0, 0, 0}}, radii = 1, planes = {{1, 0, 0}, {2, 0, 0}}})
