-- an output file whose extension names no format
-- expect: plot.scatter
-- expect: .png, .svg or .pdf
-- expect: samples.jpg
plot.scatter(array.randn({10, 2}), {file = "samples.jpg"})
