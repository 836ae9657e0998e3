-- f, fbar that fail the linear condition
-- expect: cmf.ffbar: the linear condition f(x+1,y-1) - fbar(x,y-1) + fbar(x+1,y) - f(x,y) = 0 fails
-- expect: it is 2
cmf.ffbar("x", "y")
