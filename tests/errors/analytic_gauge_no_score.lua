-- the gauge field needs a Field as its score
-- expect: option 'score' must be a Field, not a table
field.gauge{A = {{0, 1}, {-1, 0}}, score = {1, 2}}
