-- a misspelt toy set name lists the valid ones
-- expect: data.toy: unknown toy data set '8gaussian'
-- expect: valid: 8gaussians, checkerboard, 2spirals, moons, swissroll, circles, pinwheel, rings
data.toy("8gaussian", 100)
