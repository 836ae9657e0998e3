-- lstsq options are typed
-- expect: option 'rcond' must be a number
array.lstsq(array.eye(2), array.ones(2), {rcond = "small"})
