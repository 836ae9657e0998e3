-- a sample count is a non-negative integer
-- expect: bad argument #2
-- expect: number of samples must be a non-negative integer (got -5)
data.toy("moons", -5)
