-- a closed mixture
-- expect: object is closed
local g = field.gaussian{mean = {0, 0}}
g:close()
print(g:log_density{0, 0})
