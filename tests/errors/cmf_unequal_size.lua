-- matrices of unequal size
-- expect: cmf.new: matrices of unequal size
-- expect: M.y is 3x3
cmf.new{axes = {"x", "y"}, M = {x = {{1, 0}, {0, 1}}, y = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}, validate = false}
