-- f, fbar that pass the linear condition but fail the quadratic one
-- expect: cmf.ffbar: the quadratic condition
-- expect: fails: it is -x^2*y - x*y^2
cmf.ffbar("x + y", "x - y + (x - y)^2")
