-- an unknown option is an error, never ignored
-- expect: bad argument #3
-- expect: unknown option 'sead'
-- expect: seed, stream
data.toy("pinwheel", 10, {sead = 1})
