-- a file that does not exist
-- expect: array.load
-- expect: no/such/file.npy
array.load("no/such/file.npy")
