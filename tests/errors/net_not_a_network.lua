-- saving a field that is not a network
-- expect: model:save
-- expect: not a network
local f = field.fn(function(x) return x end, {dim = 2})
f:save(os.tmpname())
