-- nested tables must be rectangular
-- expect: bad argument #1 to 'from'
-- expect: not rectangular
array.from{{1, 2}, {3}}
