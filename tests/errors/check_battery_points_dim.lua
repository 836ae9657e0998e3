-- the battery with points of the wrong dimension
-- expect: check.conservativity: points have dimension 3, the field takes 2
check.conservativity(field.rotation{}, {points = array.zeros{5, 3}})
