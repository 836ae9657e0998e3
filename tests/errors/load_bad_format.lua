-- only npy and csv
-- expect: option 'format' must be
array.load("x.npy", {format = "hdf5"})
