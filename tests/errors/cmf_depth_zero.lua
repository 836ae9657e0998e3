-- depth <= 0
-- expect: bad argument #2 to 'limit'
-- expect: depth must be at least 1, not 0
cmf.known.zeta3():limit({1, 1}, 0, {1, 1})
