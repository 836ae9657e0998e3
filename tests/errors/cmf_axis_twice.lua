-- axes named twice
-- expect: cmf.new: axis 'x' is named twice
cmf.new{axes = {"x", "x"}, M = {x = {{1, 0}, {0, 1}}}}
