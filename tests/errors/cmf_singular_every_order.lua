-- a trajectory matrix that is singular in every axis order
-- expect: CMF:walk
-- expect: singular in every axis order
local c = cmf.new{axes = {"x", "y"}, M = {x = {{1, 0}, {0, 1}}, y = {{"1/x", 0}, {0, 1}}}, validate = false}
c:walk({0, 1}, 5, {0, 1})
