-- the diffusion is a number or a field
-- expect: option 'diffusion' must be a number or a Field
integrate.sde{drift = field.rotation{}, diffusion = "lots", x0 = {0, 0}, t1 = 1, steps = 10}
