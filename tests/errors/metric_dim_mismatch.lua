-- samples of different dimensions
-- expect: metric.mmd
-- expect: samples have dimension 2 (x) and 3 (y)
metric.mmd(array.zeros{5, 2}, array.zeros{5, 3})
