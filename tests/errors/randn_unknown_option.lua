-- a misspelt option is an error, never ignored
-- expect: bad argument #2 to 'randn'
-- expect: unknown option 'sed'
-- expect: seed, stream
array.randn(3, {sed = 1})
