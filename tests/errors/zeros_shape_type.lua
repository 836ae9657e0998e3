-- a shape must be a number or a table
-- expect: bad argument #1 to 'zeros'
-- expect: shape
array.zeros("big")
