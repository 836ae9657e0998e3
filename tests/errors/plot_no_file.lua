-- a one-panel plot function needs its output file
-- expect: plot.hist: option 'file' is required
plot.hist(array.randn{100})
