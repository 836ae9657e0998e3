-- more digits than the depth supports
-- expect: Limit:value: 5000 digits asked
-- expect: only good to
-- expect: walk deeper
local L = cmf.known.zeta3():limit({1, 1}, 100, {1, 1})
L:value(5000)
