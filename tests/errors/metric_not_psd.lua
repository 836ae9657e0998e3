-- a covariance with a negative eigenvalue
-- expect: metric.w2_gaussian
-- expect: covariance 2 is not positive semi-definite
metric.w2_gaussian({0, 0}, {{1, 0}, {0, 1}}, {0, 0}, {{1, 2}, {2, 1}})
