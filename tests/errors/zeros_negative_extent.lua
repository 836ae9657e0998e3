-- negative extents are refused
-- expect: shape extent 2 must be a non-negative integer
array.zeros{2, -1}
