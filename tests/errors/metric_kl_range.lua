-- an empty histogram range
-- expect: metric.kl_hist
-- expect: range on axis 1 must have finite lo < hi
metric.kl_hist(array.randn(100), array.randn(100), {range = {1, 0}})
