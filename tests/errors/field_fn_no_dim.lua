-- field.fn needs the dimension
-- expect: option 'dim' must be a positive integer
field.fn(function(x) return x end, {})
