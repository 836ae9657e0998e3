-- a misspelt option is an error, never ignored
-- expect: sliced_w2
-- expect: unknown option 'projection'
-- expect: valid: projections, seed
metric.sliced_w2(array.randn{10, 2}, array.randn{10, 2}, {projection = 16})
