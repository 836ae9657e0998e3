-- grid-only methods on another kind of field
-- expect: g:partial: not a grid field
-- expect: rotation
local f = field.rotation{omega = 1}
local d = f:partial(1)
