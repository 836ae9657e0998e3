-- inflating by zero
-- expect: PCF:inflate: c(n) must not be zero
pcf.new("2*n+1", "n^2"):inflate(0)
