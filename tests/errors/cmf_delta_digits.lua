-- delta against a constant given to too few digits
-- expect: PCF:delta
-- expect: give L to at least
local apery = pcf.new("34*n^3 + 51*n^2 + 27*n + 5", "-n^6")
apery:delta(2000, 6 / const.zeta(3, 3000))
