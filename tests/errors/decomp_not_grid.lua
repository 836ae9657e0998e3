-- only grid fields are decomposed
-- expect: bad argument #1 to 'helmholtz'
-- expect: expected a grid field
decomp.helmholtz(field.rotation{})
