-- the battery asked for the curl of a 4-D field
-- expect: check.conservativity: curl requested for a 4-D field
check.conservativity(field.linear{A = array.eye(4)}, {points = array.randn({10, 4}, {seed = 1}), tests = {"curl"}})
