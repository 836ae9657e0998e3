-- a vortex core radius cannot be negative
-- expect: field.vortex: the core radius must be >= 0
field.vortex{gamma = 1, core = -0.5}
