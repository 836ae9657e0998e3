-- not a .npy file at all
-- expect: array.load
-- expect: bad magic
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
array.load(data .. 'bad_magic.npy')
