-- eps -> x0 at alpha = 0 would divide by zero
-- expect: Schedule:convert
-- expect: divides by alpha = 0
local s = diffusion.linear()
local x = array.ones{3, 2}
local r = s:convert(x, x, 1, "eps", "x0")
