-- a non-numeric CSV cell names line and column
-- expect: array.load
-- expect: bad.csv:3
-- expect: column 2
-- expect: 'abc' is not a number
local f = assert(io.open("bad.csv", "w")); f:write("a,b\n1,2\n3,abc\n"); f:close()
array.load("bad.csv")
