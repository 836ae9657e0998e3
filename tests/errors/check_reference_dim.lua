-- a reference field of another dimension
-- expect: check.conservativity: the reference field maps R^3 -> R^3, the field R^2 -> R^2
check.conservativity(field.rotation{}, {points = {{0, 0}, {1, 1}}, reference = field.rotation{dim = 3}})
