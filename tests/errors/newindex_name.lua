-- arrays have no settable fields
-- expect: cannot set field 'foo'
local a = array.zeros(2); a.foo = 1
