-- the factor must be a polynomial in n alone
-- expect: PCF:inflate: c(n) must be a function of n only, not of 'k'
pcf.new("2*n+1", "n^2"):inflate("k*n + 1")
