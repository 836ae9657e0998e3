-- field.linear needs its matrix
-- expect: option 'A' (the matrix) is required
field.linear{b = {1, 2}}
