-- an unknown option of the battery
-- expect: unknown option 'node'
check.conservativity(field.rotation{}, {points = {{0, 0}, {1, 1}}, node = 32})
