-- spectral derivatives need periodic data
-- expect: g:partial
-- expect: spectral derivatives need a grid periodic on every axis
-- expect: axis 2 is not
local g = field.grid{n = {16, 16}, periodic = {true, false}}
local d = g:partial(1, {method = "spectral"})
