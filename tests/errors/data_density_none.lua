-- only the Gaussian-mixture toy sets have a closed-form density
-- expect: data.toy_density: 'checkerboard' has no closed-form density
-- expect: sets with one: 8gaussians
local p = data.toy_density("checkerboard")
