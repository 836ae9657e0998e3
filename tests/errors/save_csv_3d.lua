-- CSV holds 1-D and 2-D arrays only
-- expect: array.save
array.save("x.csv", array.zeros{2, 2, 2})
