-- entries must be numbers
-- expect: table entry is a string, expected a number
array.from{1, "x", 3}
