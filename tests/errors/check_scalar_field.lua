-- a scalar field is not a vector field: no conservativity test applies
-- expect: check.conservativity: needs a vector field (R^d -> R^d), not R^3 -> R^1
check.conservativity(field.plummer{}, {points = {{0, 0, 1}}})
