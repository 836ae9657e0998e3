-- reshape keeps the element count
-- expect: reshape
-- expect: cannot reshape (6)
-- expect: to (4,2)
array.zeros(6):reshape(4, 2)
