-- a component that does not exist
-- expect: field.project
-- expect: component 3 out of range 1..2
local a = field.fn(function(x) return x end, {dim = 2}); field.project(a, {3})
