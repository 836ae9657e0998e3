-- complex data is not read
-- expect: unsupported dtype '<c16'
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
array.load(data .. 'bad_complex.npy')
