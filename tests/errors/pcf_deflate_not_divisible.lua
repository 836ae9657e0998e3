-- deflation must be exact: c(n) must divide a(n)
-- expect: PCF:deflate: c(n) = n + 1 does not divide a(n) = 34*n^3 + 51*n^2 + 27*n + 5
local apery = pcf.new("34*n^3 + 51*n^2 + 27*n + 5", "-n^6")
apery:deflate("n+1")
