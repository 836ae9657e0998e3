-- stack needs equal shapes
-- expect: array.stack
array.stack{array.zeros(2), array.zeros(3)}
