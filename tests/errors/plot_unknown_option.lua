-- a misspelt option is an error, never ignored
-- expect: plot.line: unknown option 'logscale'
-- expect: logy
plot.line({1, 2, 3}, {file = "loss.png", logscale = true})
