-- the format must be known
-- expect: array.load
-- expect: cannot tell the format
array.load("data.dat")
