-- an unknown constant in the basis of an identification
-- expect: Limit:identify: unknown constant 'zeta1' in the basis
-- expect: known: pi, e, log2
cmf.known.zeta3():limit({1, 1}, 50, {1, 1}):identify{"pi", "zeta1"}
