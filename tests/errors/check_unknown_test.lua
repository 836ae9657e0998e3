-- an unknown test name
-- expect: check.conservativity: unknown test 'loops'
check.conservativity(field.rotation{}, {points = {{0, 0}, {1, 1}}, tests = {"jacobian", "loops"}})
