-- concat needs equal extents off the axis
-- expect: array.concat
array.concat{array.zeros{2, 3}, array.zeros{2, 4}}
