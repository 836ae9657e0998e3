-- seeds are non-negative
-- expect: option 'seed' must be a non-negative integer
array.rand(3, {seed = -5})
