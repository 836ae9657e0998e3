-- a sample of one point has no pairs
-- expect: metric.energy_distance
-- expect: need at least 2 points in each sample, got 1 and 2
metric.energy_distance({{0}}, {{1}, {2}})
