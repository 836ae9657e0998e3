-- a closed CMF
-- expect: object is closed
local c = cmf.known.e()
c:close()
c:close() -- idempotent
print(tostring(c))
c:walk({1, 1}, 5, {0, 0})
