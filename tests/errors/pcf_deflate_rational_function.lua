-- the factor must be a polynomial in n
-- expect: PCF:deflate: c(n) must be a polynomial in n, not the rational function 1/(n + 1)
pcf.new("2*n+1", "n^2"):deflate("1/(n+1)")
