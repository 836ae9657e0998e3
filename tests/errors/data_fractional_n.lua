-- a sample count is an integer
-- expect: bad argument #2
-- expect: number of samples must be a non-negative integer (got 10.5)
data.toy("circles", 10.5)
