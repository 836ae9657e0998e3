-- an unknown test statistic
-- expect: two_sample
-- expect: option 'test' must be "mmd" or "energy", not "ks"
metric.two_sample(array.randn{10, 2}, array.randn{10, 2}, {test = "ks"})
