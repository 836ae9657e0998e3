-- linspace needs a point
-- expect: bad argument #3 to 'linspace'
-- expect: at least 1
array.linspace(0, 1, 0)
