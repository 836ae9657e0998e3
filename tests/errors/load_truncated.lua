-- a .npy whose data is cut short
-- expect: array.load
-- expect: bad_truncated.npy
-- expect: truncated
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
array.load(data .. 'bad_truncated.npy')
