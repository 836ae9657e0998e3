-- using an array after close()
-- expect: object is closed
local a = array.zeros(3); a:close(); print(a:sum())
