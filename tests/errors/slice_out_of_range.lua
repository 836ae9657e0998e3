-- slice bounds are checked
-- expect: slice bound 5 out of range 1..3
array.zeros{3, 3}:slice{{1, 5}}
