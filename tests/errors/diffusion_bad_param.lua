-- VE needs smin < smax
-- expect: diffusion.ve
-- expect: need 0 < smin < smax
local s = diffusion.ve{smin = 5, smax = 1}
