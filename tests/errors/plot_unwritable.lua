-- a file that cannot be created: an error, and the process is not ended by PLplot
-- expect: plot.scatter: cannot write '/nonexistent-dir/x.png'
plot.scatter(array.randn({10, 2}), {file = "/nonexistent-dir/x.png"})
