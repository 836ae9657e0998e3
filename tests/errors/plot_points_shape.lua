-- scatter takes n-by-2 points
-- expect: plot.scatter: the points must be an n-by-2 array of points, not of shape (10,3)
plot.scatter(array.randn({10, 3}), {file = "s.png"})
