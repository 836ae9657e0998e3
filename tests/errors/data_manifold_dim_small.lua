-- the sphere lives in R^3: it cannot be embedded in R^2
-- expect: data.manifold: dim 2 is less than 3
data.manifold("sphere", 10, {dim = 2})
