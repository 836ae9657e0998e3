-- a bandwidth must be positive
-- expect: mmd
-- expect: bandwidth 2 must be a positive finite number
metric.mmd(array.randn{10, 2}, array.randn{10, 2}, {bandwidth = {1, -0.5}})
