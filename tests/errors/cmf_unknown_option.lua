-- an unknown option name
-- expect: unknown option 'valid'
-- expect: (valid: axes, M, params, validate)
cmf.new{axes = {"x"}, M = {x = {{1, 0}, {0, 1}}}, valid = false}
