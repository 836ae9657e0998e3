-- deflation must be exact: c(n-1) c(n) must divide b(n) (here c(n) divides a(n))
-- expect: PCF:deflate: c(n) c(n-1) = (n)*(n - 1) = n^2 - n does not divide b(n) = n^2
pcf.new("n*(n+1)", "n^2"):deflate("n")
