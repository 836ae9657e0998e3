-- rows of a CSV file must have equal length
-- expect: ragged.csv:2
-- expect: 2 columns, expected 3
local f = assert(io.open("ragged.csv", "w")); f:write("1,2,3\n4,5\n"); f:close()
array.load("ragged.csv")
