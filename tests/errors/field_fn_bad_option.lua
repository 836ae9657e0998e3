-- an unknown option of field.fn
-- expect: unknown option 'codm'
field.fn(function(x) return x end, {dim = 2, codm = 1})
