-- an axis makes a 3-D rotation: dim = 2 contradicts it
-- expect: option 'dim' must be 3
field.rotation{dim = 2, axis = {0, 0, 1}}
