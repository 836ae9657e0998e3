-- fieldlab.cmf: the known conservative matrix fields (cmf.known.*), as in
-- ramanujantools' known_cmfs.py (shared/reference/cmf.md section 2). The
-- C side (src/l_cmf.c) provides cmf.new and the CMF, Limit and PCF types.
local core = require "fieldlab.core"
local cmf = core.cmf

local known = {}
cmf.known = known

local function field(axes, M)
  return cmf.new{ axes = axes, M = M, validate = false }
end

-- e: along (1,1) from (0,0) the limit is 1/(1-e).
function known.e()
  return field({ "x", "y" }, {
    x = { { 1, "-y-1" }, { -1, "x+y+2" } },
    y = { { 0, "-y-1" }, { -1, "x+y+1" } },
  })
end

-- pi: along (1,1) from (1,0) the limit is (2-pi)/2.
function known.pi()
  return field({ "x", "y" }, {
    x = { { "x", "-x" }, { "-y", "2*x+y+1" } },
    y = { { "1+y", "-x" }, { "-1-y", "x+2*y+1" } },
  })
end

-- symmetric pi: along (1,1) from (1,1) the limit is (2pi-6)/(4-pi).
function known.symmetric_pi()
  return field({ "x", "y" }, {
    x = { { "x", "x*y" }, { 1, "1+2*x+y" } },
    y = { { "y", "x*y" }, { 1, "1+x+2*y" } },
  })
end

-- zeta(3) (Apery): along (1,1) from (1,1) the limit is (1-zeta(3))/zeta(3).
function known.zeta3()
  return field({ "x", "y" }, {
    x = { { 0, "-x^3" }, { "(x+1)^3", "x^3 + (x+1)^3 + 2*y*(y-1)*(2*x+1)" } },
    y = { { "-x^3 + 2*x^2*y - 2*x*y^2 + y^3", "-x^3" }, { "x^3", "x^3 + 2*x^2*y + 2*x*y^2 + y^3" } },
  })
end

-- zeta(2) (cmf2 at c = (0,0,0,1)): along (1,1) from (1,1) the limit is 2/zeta(2) - 2.
function known.zeta2()
  return field({ "x", "y" }, {
    x = { { 0, "-4*x^4" }, { 1, "2*(2*x^2 + 2*x + y^2 - y + 1)" } },
    y = { { "-2*x^2 + 2*x*y - y^2", "-4*x^4" }, { 1, "2*x^2 + 2*x*y + y^2" } },
  })
end

-- log (cmf1 at c = (0, a, 0, b)): along (1,1) from (1,1) the limit is
-- -a + b/log(1 + b/a); a = b = 1 gives 1/log(2) - 1.
function known.log(a, b)
  a, b = a or 1, b or 1
  local A, B = "(" .. tostring(a) .. ")", "(" .. tostring(b) .. ")"
  local bx = A .. "*x*" .. B .. "*x"
  return field({ "x", "y" }, {
    x = { { 0, bx }, { 1, A .. "*(x+y) - " .. B .. "*(x-y+1)" } },
    y = { { B .. "*(x-y)", bx }, { 1, A .. "*(x+y)" } },
  })
end

return cmf
