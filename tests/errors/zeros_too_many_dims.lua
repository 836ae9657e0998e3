-- at most 8 dimensions
-- expect: shape must have 1 to 8 extents
array.zeros{1, 1, 1, 1, 1, 1, 1, 1, 1}
