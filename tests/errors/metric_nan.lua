-- NaN in a sample
-- expect: metric.sliced_w2
-- expect: y has a non-finite entry at row 2, column 1
metric.sliced_w2({{0, 0}, {1, 1}, {2, 2}}, {{0, 0}, {0 / 0, 1}, {2, 2}})
