-- substituting an axis
-- expect: CMF:subs: 'y' is an axis: only parameters can be substituted
cmf.known.cmf1():subs{c0 = 1, y = 2}
