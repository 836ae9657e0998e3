-- a .npy header claiming more data than the file holds
-- expect: array.load
-- expect: (1000,1000)
-- expect: only 8 bytes follow
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
array.load(data .. 'bad_lying_header.npy')
