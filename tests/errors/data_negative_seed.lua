-- seeds are non-negative integers
-- expect: bad argument #3
-- expect: option 'seed' must be a non-negative integer
data.manifold("circle", 10, {seed = -3})
