-- option types are checked
-- expect: option 'seed' must be an integer
array.randn(3, {seed = "one"})
