-- a misspelt option of a potential is an error that lists the valid ones
-- expect: unknown option 'mass'
-- expect: valid: M, b, G, dim
field.plummer{mass = 2}
