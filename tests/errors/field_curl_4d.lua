-- curl needs 2-D or 3-D
-- expect: curl
-- expect: not 4-D
local f = field.fn(function(x) return x end, {dim = 4}); f:curl{1, 2, 3, 4}
