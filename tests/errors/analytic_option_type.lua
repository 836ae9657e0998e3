-- option values are typed
-- expect: option 'gamma' must be a number
field.vortex{gamma = "strong"}
