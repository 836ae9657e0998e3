-- curl requested for a 4-D field
-- expect: check.curl: curl is defined in 2-D and 3-D, not 4-D
check.curl(field.linear{A = array.eye(4)}, {points = array.zeros{2, 4}})
