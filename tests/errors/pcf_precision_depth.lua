-- PCF:precision needs a depth of at least 1
-- expect: depth must be at least 1, not 0
pcf.new("2*n+1", "n^2"):precision(0)
