-- the Taylor-Green vortex is 2-D or 3-D
-- expect: option 'dim' must be 2 or 3
field.taylor_green{dim = 4}
