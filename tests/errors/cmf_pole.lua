-- a pole on the walk
-- expect: CMF:walk: the step matrix has a pole at n = 3
local c = cmf.new{axes = {"x"}, M = {x = {{1, 0}, {0, "1/(x-3)"}}}}
c:walk({1}, 10, {0})
