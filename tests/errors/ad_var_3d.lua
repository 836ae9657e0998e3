-- ad works on 2-D tensors only
-- expect: bad argument #1 to 'var'
-- expect: not 3-D
ad.var(array.zeros{2, 2, 2})
