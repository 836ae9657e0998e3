-- noise is a standard deviation: >= 0
-- expect: data.manifold: noise must be a finite number >= 0
data.manifold("circle", 10, {dim = 3, noise = -0.1})
