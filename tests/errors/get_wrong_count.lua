-- one index per dimension
-- expect: get
-- expect: need 2 indices
array.zeros{2, 2}:get(1)
