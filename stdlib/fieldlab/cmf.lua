-- fieldlab.cmf: what reads better in Lua on top of the C types of
-- src/l_cmf.c (cmf.new, CMF, Limit, PCF, const.pslq):
--   * the known conservative matrix fields (cmf.known.*), as in
--     ramanujantools' known_cmfs.py (shared/reference/cmf.md section 2);
--   * the constructions cmf.ffbar and cmf.pfq (section 1.7);
--   * identification of limits: const.identify and Limit:identify (section
--     3.4: prune the basis, then PSLQ on v ++ L v, a Moebius relation);
--   * check.matrix_field, the exact plaquette test on a lattice box.
local core = require "fieldlab.core"
local cmf, poly, const = core.cmf, core.poly, core.const

local known = {}
cmf.known = known

local ZERO = poly.parse("0")

local function is_zero(p)
  if type(p) == "number" then return p == 0 end
  return p == ZERO
end

local function field(axes, M, params)
  return cmf.new{ axes = axes, M = M, params = params, validate = false }
end

-- A parameter value: nil gives the symbol `name`; numbers (integers),
-- Rationals, strings and Poly values are taken as they are.
local function param(v, name, fname)
  if v == nil then return poly.var(name) end
  if poly.is_poly(v) or poly.is_rational(v) then return v end
  if type(v) == "string" then return poly.parse(v) end
  if math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v) and v == v and math.abs(v) < 2^53) then
    return math.tointeger(v)
  end
  error(string.format("%s: %s must be an integer, a Rational, a string or a Poly, not %s", fname, name,
    type(v) == "number" and tostring(v) or type(v)), 3)
end

-- A polynomial argument (Poly, string, number or Rational) as a Poly.
local function topoly(v, what, fname)
  if poly.is_poly(v) then return v end
  if type(v) == "string" then return poly.parse(v) end
  if poly.is_rational(v) or math.type(v) == "integer" then return ZERO + v end
  error(string.format("%s: %s must be a Poly, a string, an integer or a Rational, not %s", fname, what,
    type(v) == "number" and tostring(v) or type(v)), 3)
end

---------------------------------------------------------------- known fields

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

---------------------------------------------------------------- f, fbar

-- The f, fbar construction (ramanujantools' FFbar): both conditions are
-- checked exactly, then M_X = [[0, b(x)], [1, a(x,y)]] and
-- M_Y = [[fbar, b(x)], [1, f]] with a = f(x,y) - fbar(x+1,y) and
-- b = f fbar(x,0) - f fbar(0,0).
function cmf.ffbar(f, fbar)
  local fname = "cmf.ffbar"
  f, fbar = topoly(f, "f", fname), topoly(fbar, "fbar", fname)
  local x, y = poly.var("x", "y")
  local lin = f:subs{ x = x + 1, y = y - 1 } - fbar:subs{ y = y - 1 } + fbar:subs{ x = x + 1 } - f
  if not is_zero(lin) then
    error(string.format("%s: the linear condition f(x+1,y-1) - fbar(x,y-1) + fbar(x+1,y) - f(x,y) = 0 fails: "
      .. "it is %s", fname, tostring(lin)), 2)
  end
  local ff = f * fbar
  local ff0 = ff:subs{ x = 0, y = 0 }
  local quad = ff - ff:subs{ y = 0 } - ff:subs{ x = 0 } + ff0
  if not is_zero(quad) then
    error(string.format("%s: the quadratic condition f fbar(x,y) - f fbar(x,0) - f fbar(0,y) + f fbar(0,0) = 0 "
      .. "fails: it is %s", fname, tostring(quad)), 2)
  end
  local b = ff:subs{ y = 0 } - ff0
  local a = f - fbar:subs{ x = x + 1 }
  return field({ "x", "y" }, { x = { { 0, b }, { 1, a } }, y = { { fbar, b }, { 1, f } } })
end

-- cmf1 .. cmf3_3: the f, fbar families of known_cmfs.py with parameters
-- c0 .. c3 (symbols when not given).
local function cs(fname, ...)
  local c = { ... }
  for k = 1, 4 do c[k] = param(c[k], "c" .. (k - 1), fname) end
  return c[1], c[2], c[3], c[4]
end

function known.cmf1(...)
  local c0, c1, c2, c3 = cs("cmf.known.cmf1", ...)
  local x, y = poly.var("x", "y")
  return cmf.ffbar(c0 + c1 * (x + y), c2 + c3 * (x - y))
end

function known.cmf2(...)
  local c0, c1, c2, c3 = cs("cmf.known.cmf2", ...)
  local x, y = poly.var("x", "y")
  local f = (2 * c1 + c2) * (c1 + c2) - c3 * c0 - c3 * ((2 * c1 + c2) * (x + y) + (c1 + c2) * (2 * x + y))
    + c3 * c3 * (2 * x ^ 2 + 2 * x * y + y ^ 2)
  local fbar = c3 * (c0 + c2 * x + c1 * y) - c3 * c3 * (2 * x ^ 2 - 2 * x * y + y ^ 2)
  return cmf.ffbar(f, fbar)
end

function known.cmf3_1(...)
  local c0, c1 = cs("cmf.known.cmf3_1", ...)
  local x, y = poly.var("x", "y")
  local f = -(c0 + c1 * (x + y)) * (c0 * (x + 2 * y) + c1 * (x ^ 2 + x * y + y ^ 2))
  local fbar = (c0 + c1 * (y - x)) * (c0 * (x - 2 * y) - c1 * (x ^ 2 - x * y + y ^ 2))
  return cmf.ffbar(f, fbar)
end

function known.cmf3_2(...)
  local c0, c1 = cs("cmf.known.cmf3_2", ...)
  local x, y = poly.var("x", "y")
  local f = -(x + y) * (c0 * c0 + 2 * c1 * c1 * (x ^ 2 + x * y + y ^ 2))
  local fbar = (x - y) * (c0 * c0 + 2 * c1 * c1 * (x ^ 2 - x * y + y ^ 2))
  return cmf.ffbar(f, fbar)
end

function known.cmf3_3(...)
  local c0, c1 = cs("cmf.known.cmf3_3", ...)
  local x, y = poly.var("x", "y")
  local f = (x + y) * (c0 * c0 - c0 * c1 * (x - y) - 2 * c1 * c1 * (x ^ 2 + x * y + y ^ 2))
  local fbar = (c0 + c1 * (x - y)) * (3 * c0 * (x - y) + 2 * c1 * (x ^ 2 - x * y + y ^ 2))
  return cmf.ffbar(f, fbar)
end

-- var_root_cmf (not an f, fbar field), parameters c0, c1, c2.
function known.var_root_cmf(c0, c1, c2)
  local fname = "cmf.known.var_root_cmf"
  c0, c1, c2 = param(c0, "c0", fname), param(c1, "c1", fname), param(c2, "c2", fname)
  local x, y = poly.var("x", "y")
  local Y = 2 * y - c2
  local b = -x * (x + c0) * (x + c1) * (2 * x + Y)
  local a = (2 * x + c1 + 1) * (2 * x + c0 + 1) - x * (x + 1)
  local F = x ^ 2 + x * (Y + 1) + (Y + 1 - c1) * (Y + 1 - c0)
  local G = -(Y + 2 * x) * (x + c1 + c0 - (Y + 1))
  return field({ "x", "y" }, { x = { { 0, b }, { 1, a } }, y = { { G, b }, { 1, F } } })
end

---------------------------------------------------------------- hypergeometric fields

local function eye(r)
  local I = {}
  for i = 1, r do
    I[i] = {}
    for j = 1, r do I[i][j] = i == j and 1 or 0 end
  end
  return I
end

-- s A + I for a matrix A of Poly values and a scalar s.
local function scaled_plus_eye(A, s)
  local r, M = #A, {}
  for i = 1, r do
    M[i] = {}
    for j = 1, r do M[i][j] = A[i][j] * s + (i == j and 1 or 0) end
  end
  return M
end

local function shifted(A, name)
  local v = poly.var(name)
  local r, M = #A, {}
  for i = 1, r do
    M[i] = {}
    for j = 1, r do M[i][j] = topoly(A[i][j], "entry", "cmf.pfq"):subs{ [name] = v + 1 } end
  end
  return M
end

-- The hypergeometric-derived 2F1 field of known_cmfs.py (axes a, b, c):
-- along (1,0,1) from (1,1,1) the limit is (51 pi - 160)/(16 - 5 pi).
function known.hypergeometric_2F1()
  return field({ "a", "b", "c" }, {
    a = { { "1+2*a", "(1+2*a)*(1+2*b)" }, { 1, "5+4*a+2*b+4*c" } },
    b = { { "1+2*b", "(1+2*a)*(1+2*b)" }, { 1, "5+2*a+4*b+4*c" } },
    c = { { "-1-2*c", "(1+2*a)*(1+2*b)" }, { 1, "3+2*a+2*b+2*c" } },
  })
end

-- The hypergeometric-derived 3F2 field (axes x0, x1, x2, y0, y1; z a
-- number or, when nil, a parameter).
function known.hypergeometric_3F2(z)
  z = param(z, "z", "cmf.known.hypergeometric_3F2")
  local x0, x1, x2, y0, y1 = poly.var("x0", "x1", "x2", "y0", "y1")
  local Sx, Tx, Px = x0 + x1 + x2, x0 * x1 + x0 * x2 + x1 * x2, x0 * x1 * x2
  local Sy, Ty = y0 + y1, y0 * y1
  local w = (1 - z) * z
  local Mz = {
    { 0, 0, Px / w },
    { z, 1, ((Tx + Sx + 1) * z - Ty) / w },
    { 0, z, ((Sx + 1) * z + Sy + 1) / (1 - z) },
  }
  for i = 1, 3 do for j = 1, 3 do Mz[i][j] = ZERO + Mz[i][j] end end
  local M = {}
  for _, v in ipairs{ { "x0", x0 }, { "x1", x1 }, { "x2", x2 } } do M[v[1]] = scaled_plus_eye(Mz, 1 / v[2]) end
  for _, v in ipairs{ { "y0", y0 }, { "y1", y1 } } do M[v[1]] = scaled_plus_eye(Mz, -1 / (v[2] + 1)) end
  return field({ "x0", "x1", "x2", "y0", "y1" }, M)
end

-- The D-finite pFq field (ramanujantools' pFq): theta = z d/dz, the ODE
-- theta prod_j (theta + y_j - 1) - z prod_i (theta + x_i) = 0 made monic,
-- C its companion, M_xi = C/x_i + I, and M_yj the inverse of the backward
-- matrix C/(y_j - 1) + I taken at y_j + 1.
function cmf.pfq(p, q, z)
  local fname = "cmf.pfq"
  if math.type(p) ~= "integer" or p < 1 or p > 8 then
    error(string.format("%s: p must be an integer from 1 to 8, not %s", fname, tostring(p)), 2)
  end
  if math.type(q) ~= "integer" or q < 0 or q > 7 then
    error(string.format("%s: q must be an integer from 0 to 7, not %s", fname, tostring(q)), 2)
  end
  z = param(z, "z", fname)
  local xs, ys, axes = {}, {}, {}
  for i = 0, p - 1 do xs[#xs + 1] = "x" .. i; axes[#axes + 1] = "x" .. i end
  for j = 0, q - 1 do ys[#ys + 1] = "y" .. j; axes[#axes + 1] = "y" .. j end
  -- coefficient lists (index k + 1 holds the coefficient of theta^k)
  local function times_linear(c, a) -- c(theta) (theta + a)
    local out = {}
    for k = 1, #c + 1 do out[k] = (c[k - 1] or 0) + (c[k] and c[k] * a or 0) end
    return out
  end
  local P1 = { 0, 1 } -- theta
  for _, y in ipairs(ys) do P1 = times_linear(P1, poly.var(y) - 1) end
  local P2 = { z }
  for _, x in ipairs(xs) do P2 = times_linear(P2, poly.var(x)) end
  local P = {}
  for k = 1, math.max(#P1, #P2) do P[k] = ZERO + (P1[k] or 0) - (P2[k] or 0) end
  while #P > 0 and is_zero(P[#P]) do P[#P] = nil end
  local r = #P - 1
  if r < 2 then
    error(string.format("%s: the ODE of %dF%d(z = %s) has order %d: a CMF needs matrices of at least 2x2", fname,
      p, q, tostring(z), r), 2)
  end
  if r > 8 then error(string.format("%s: rank %d is above the supported 8", fname, r), 2) end
  local lead = P[r + 1]
  local C = {}
  for i = 1, r do
    C[i] = {}
    for j = 1, r do C[i][j] = ZERO end
  end
  for i = 2, r do C[i][i - 1] = ZERO + 1 end
  for i = 1, r do C[i][r] = -(P[i] / lead) end
  local M = {}
  for _, x in ipairs(xs) do M[x] = scaled_plus_eye(C, 1 / poly.var(x)) end
  for _, y in ipairs(ys) do
    local back = scaled_plus_eye(C, 1 / (poly.var(y) - 1)) -- M^-_y: y -> y - 1
    M[y] = poly.inverse(shifted(back, y))
  end
  return field(axes, M)
end

---------------------------------------------------------------- identification

-- Named constants of a basis: display name and the function giving digits.
local CONSTANTS = {
  pi = { "pi", function(d) return const.pi(d) end },
  e = { "e", function(d) return const.e(d) end },
  log2 = { "log(2)", function(d) return const.log2(d) end },
  catalan = { "catalan", function(d) return const.catalan(d) end },
  euler = { "euler", function(d) return const.euler(d) end },
  gompertz = { "gompertz", function(d) return const.gompertz(d) end },
}
local KNOWN_NAMES = "pi, e, log2, catalan, euler, gompertz, zeta2, zeta3, ..., zetaK"

-- Whether s names a constant a basis may use (for the command line).
function cmf._known_constant(s)
  if CONSTANTS[s] then return true end
  local k = s:match("^zeta%(?(%d+)%)?$")
  return k ~= nil and tonumber(k) >= 2
end

local function basis_value(item, k, digits, fname)
  if type(item) == "string" then
    local zk = item:match("^zeta%(?(%d+)%)?$")
    if zk and tonumber(zk) >= 2 then return "zeta(" .. zk .. ")", const.zeta(tonumber(zk), digits) end
    local c = CONSTANTS[item]
    if not c then
      error(string.format("%s: unknown constant '%s' in the basis (known: %s; or a Real, or {name, Real})", fname,
        item, KNOWN_NAMES), 5)
    end
    return c[1], c[2](digits)
  end
  if const.is_real(item) then return "c" .. k, item end
  if type(item) == "table" and type(item[1]) == "string" and item[2] ~= nil then
    return item[1], const.real(item[2], digits)
  end
  error(string.format("%s: basis entry %d must be a constant name, a Real or {name, Real}, not %s", fname, k,
    type(item)), 5)
end

local Identification = {}
Identification.__index = Identification
Identification.__name = "fieldlab.Identification"

function Identification.__tostring(r)
  if not r.found then return string.format("%s = ? (not identified: %s)", r.symbol, r.reason) end
  local holds = r.holds == math.huge and "exactly" or string.format("to %.0f digits", r.holds)
  return string.format("%s = %s  (relation [%s] on [%s]; holds %s at %d digits)", r.symbol, r.closed_form,
    table.concat(r.relation, ", "), table.concat(r.terms, ", "), holds, r.digits)
end

-- sum c_i names_i as text, starting with a positive term when there is one.
local function lincomb(coefs, names)
  local terms = {}
  for i, c in ipairs(coefs) do if c ~= 0 then terms[#terms + 1] = { c, names[i] } end end
  if #terms == 0 then return "0", 0 end
  for i, t in ipairs(terms) do
    if t[1] > 0 then
      table.insert(terms, 1, table.remove(terms, i))
      break
    end
  end
  local out = {}
  for i, t in ipairs(terms) do
    local c, nm = t[1], t[2]
    local mag = math.abs(c)
    local body = nm == "1" and tostring(mag) or (mag == 1 and nm or mag .. "*" .. nm)
    if i == 1 then out[#out + 1] = (c < 0 and "-" or "") .. body
    else out[#out + 1] = (c < 0 and " - " or " + ") .. body end
  end
  return table.concat(out), #terms
end

-- x = (sum num_i b_i) / (sum den_i b_i) as text.
local function closed_form(num, den, names)
  local ns, nn = lincomb(num, names)
  local ds, dn = lincomb(den, names)
  if ds == "1" then return ns end
  if nn > 1 then ns = "(" .. ns .. ")" end
  if dn > 1 or ds:find("[*-]") then ds = "(" .. ds .. ")" end
  return ns .. "/" .. ds
end

local ID_OPTS = { maxcoeff = true, maxsteps = true, digits = true }

local function check_id_opts(opts, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(string.format("%s: options must be a table, not %s", fname, type(opts)), 3) end
  for k in pairs(opts) do
    if not ID_OPTS[k] then
      error(string.format("%s: unknown option '%s' (valid: digits, maxcoeff, maxsteps)", fname, tostring(k)), 3)
    end
  end
  return opts
end

-- The names and values (to `digits` digits) of a basis: "1" first.
local function resolve_basis(basis, digits, fname)
  if type(basis) == "string" or const.is_real(basis) then basis = { basis } end
  if type(basis) ~= "table" then
    error(string.format("%s: the basis must be a list of constants (names such as \"pi\", or Reals), not %s", fname,
      type(basis)), 4)
  end
  local names, vals, mind, which = { "1" }, { const.real(1, digits) }, math.huge, nil
  for k, item in ipairs(basis) do
    local nm, v = basis_value(item, k, digits, fname)
    names[#names + 1], vals[#vals + 1] = nm, v
    if v:digits() < mind then mind, which = v:digits(), nm end
  end
  return names, vals, mind, which
end

-- The identification of x (a Real good to `digits` digits) in the basis
-- (section 3.4 of the reference: prune dependent basis entries, then
-- PSLQ on [b_1, x b_1, b_2, x b_2, ...] for a Moebius relation).
local function identify(x, basis, opts, digits, symbol, fname)
  local maxcoeff = opts.maxcoeff or 1000
  if math.type(maxcoeff) ~= "integer" or maxcoeff < 1 then
    error(string.format("%s: option 'maxcoeff' must be a positive integer", fname), 3)
  end
  local maxsteps = opts.maxsteps or maxcoeff
  local names, vals, mind, which = resolve_basis(basis, digits + 10, fname)
  if mind < digits then
    -- a Real of the basis carries fewer digits than x: work to those
    if mind < 15 then
      error(string.format("%s: the basis value %s is known to only %d digits: PSLQ needs at least 15", fname, which,
        mind), 3)
    end
    digits = mind
  end
  local res = setmetatable({ found = false, symbol = symbol, value = x, digits = digits, basis = {}, dropped = {},
    maxcoeff = maxcoeff }, Identification)
  -- 1: drop basis entries that depend on the others
  local idx = {}
  for i = 1, #vals do idx[i] = i end
  while #idx > 1 do
    local v = {}
    for i, j in ipairs(idx) do v[i] = vals[j] end
    local r = const.pslq(v, { maxcoeff = maxcoeff, maxsteps = 100, digits = digits })
    if not r.found then break end
    local last
    for i = #idx, 1, -1 do if r.relation[i] ~= 0 then last = i break end end
    res.dropped[#res.dropped + 1] = names[idx[last]]
    table.remove(idx, last)
  end
  for _, j in ipairs(idx) do res.basis[#res.basis + 1] = names[j] end
  if x == const.real(0, 20) then
    res.found, res.closed_form, res.relation, res.terms, res.holds = true, "0", { 1 }, { symbol }, math.huge
    res.numerator, res.denominator = {}, {}
    for i = 1, #idx do res.numerator[i], res.denominator[i] = 0, i == 1 and 1 or 0 end
    return res
  end
  -- 2: the Moebius relation sum c_i b_i + x sum d_i b_i = 0
  local v, terms = {}, {}
  for _, j in ipairs(idx) do
    v[#v + 1] = vals[j]
    v[#v + 1] = x * vals[j]
    terms[#terms + 1] = names[j]
    terms[#terms + 1] = names[j] == "1" and symbol or symbol .. "*" .. names[j]
  end
  res.terms = terms
  local r = const.pslq(v, { maxcoeff = maxcoeff, maxsteps = maxsteps, digits = digits })
  res.steps, res.norm_bound = r.steps, r.norm_bound
  if not r.found then
    res.reason = r.reason
    res.candidate = r.candidate
    return res
  end
  local num, den, anyd = {}, {}, false
  for i = 1, #idx do
    num[i], den[i] = -r.relation[2 * i - 1], r.relation[2 * i]
    anyd = anyd or den[i] ~= 0
  end
  if not anyd then
    res.reason = "the relation found does not involve " .. symbol .. " (the basis is dependent)"
    res.candidate = r.relation
    return res
  end
  for i = 1, #den do
    if den[i] ~= 0 then
      if den[i] < 0 then
        for k = 1, #den do num[k], den[k] = -num[k], -den[k] end
      end
      break
    end
  end
  -- a rational x: every relation has numerator = x denominator; say x = p/q
  local i0
  for i = 1, #den do if den[i] ~= 0 then i0 = i break end end
  local rational = true
  for i = 1, #den do
    if poly.rational(num[i]) * den[i0] ~= poly.rational(num[i0]) * den[i] then rational = false break end
  end
  if rational then
    local pq = poly.rational(num[i0], den[i0])
    num, den = { math.tointeger(pq:num():tonumber()) }, { math.tointeger(pq:den():tonumber()) }
    for i = 2, #idx do num[i], den[i] = 0, 0 end
  end
  res.found = true
  res.relation, res.residual, res.holds = r.relation, r.residual, r.holds
  res.numerator, res.denominator = num, den
  res.closed_form = closed_form(num, den, res.basis)
  return res
end

-- const.identify(x, basis [, opts])
function const.identify(x, basis, opts)
  local fname = "const.identify"
  opts = check_id_opts(opts, fname)
  if type(x) == "string" or (type(x) == "number" and math.type(x) == "float") then x = const.real(x) end
  if not const.is_real(x) then
    error(string.format("%s: x must be a Real, a decimal string or a number, not %s", fname, type(x)), 2)
  end
  local digits = opts.digits or x:digits()
  if math.type(digits) ~= "integer" or digits < 15 then
    error(string.format("%s: the working precision must be an integer of at least 15 digits, not %s", fname,
      tostring(digits)), 2)
  end
  if digits > x:digits() then
    error(string.format("%s: option 'digits' asks for %d digits, but x is known to only %d", fname, digits,
      x:digits()), 2)
  end
  return identify(x, basis, opts, digits, "x", fname)
end

-- Limit:identify(constants [, opts])
local Limit = core.classes["fieldlab.Limit"].__methods
function Limit.identify(L, constants, opts)
  local fname = "Limit:identify"
  opts = check_id_opts(opts, fname)
  local prec = L:precision()
  local digits = math.max(math.floor(1.1 * prec), 15)
  if opts.digits then
    if math.type(opts.digits) ~= "integer" or opts.digits < 15 or opts.digits > digits then
      error(string.format("%s: option 'digits' must be an integer from 15 to %d (max(1.1 precision, 15)), not %s",
        fname, digits, tostring(opts.digits)), 2)
    end
    digits = opts.digits
  end
  if constants == nil then error(fname .. ": name the constants of the basis, e.g. {\"pi\"}", 2) end
  if prec < 14 then
    -- a value known to fewer digits than PSLQ's minimum cannot be identified honestly
    local names = resolve_basis(constants, 20, fname)
    table.remove(names, 1)
    return setmetatable({ found = false, symbol = "L", basis = names, dropped = {}, digits = digits, precision = prec,
      depth = L:depth(), reason = string.format("the limit at depth %d is known to only %d digits; identification "
        .. "needs at least 14: walk deeper", L:depth(), prec) }, Identification)
  end
  local x = L:value(digits)
  local res = identify(x, constants, opts, digits, "L", fname)
  res.precision, res.depth = prec, L:depth()
  return res
end

---------------------------------------------------------------- check.matrix_field

local Report = {}
Report.__index = Report
Report.__name = "fieldlab.MatrixFieldReport"

local function matstr(W)
  local rows = {}
  for i = 1, #W do
    local e = {}
    for j = 1, #W[i] do e[j] = tostring(W[i][j]) end
    rows[i] = "[" .. table.concat(e, ", ") .. "]"
  end
  return "[" .. table.concat(rows, ", ") .. "]"
end

function Report.__tostring(r)
  local lines = { "check.matrix_field: " .. r.field .. " on the box " .. r.box_text }
  lines[#lines + 1] = string.format("  %-22s %d", "plaquettes checked", r.plaquettes)
  lines[#lines + 1] = string.format("  %-22s %d", "skipped (poles)", r.skipped)
  lines[#lines + 1] = string.format("  %-22s %d", "defects", r.defects)
  lines[#lines + 1] = "verdict: " .. r.verdict
  return table.concat(lines, "\n")
end

local MF_OPTS = { box = true }

local function mf_fail(fmt, ...) error("check.matrix_field: " .. string.format(fmt, ...), 3) end

local function matrix_field(c, opts)
  local mt = getmetatable(c)
  if type(mt) ~= "table" or mt.__name ~= "fieldlab.CMF" then
    error(string.format("bad argument #1 to 'matrix_field' (fieldlab.CMF expected, got %s)", type(c)), 2)
  end
  if type(opts) ~= "table" then
    error(string.format("bad argument #2 to 'matrix_field' (option table expected, got %s)", type(opts)), 2)
  end
  for k in pairs(opts) do
    if not MF_OPTS[k] then
      error(string.format("bad argument #2 to 'matrix_field' (unknown option '%s' (valid: box))", tostring(k)), 2)
    end
  end
  local axes, dim = c:axes(), c:dim()
  -- the parameters the matrices use (a declared one no entry uses does no harm)
  local isaxis, used, params = {}, {}, {}
  for _, a in ipairs(axes) do isaxis[a] = true end
  for _, a in ipairs(axes) do
    for _, row in ipairs(c:M(a)) do
      for _, e in ipairs(row) do
        for _, v in ipairs(e:vars()) do
          if not isaxis[v] and not used[v] then used[v] = true; params[#params + 1] = v end
        end
      end
    end
  end
  table.sort(params)
  if #params > 0 then
    mf_fail("the field has parameters (%s): substitute values first (CMF:subs)", table.concat(params, ", "))
  end
  local box = opts.box
  if type(box) ~= "table" then mf_fail("option 'box' is required: a range {lo, hi} per axis, e.g. {{1, 5}, {1, 5}}") end
  local ranges = {}
  if type(box[1]) == "number" then
    for a = 1, dim do ranges[a] = box end
  else
    for a = 1, dim do ranges[a] = box[a] or box[axes[a]] end
  end
  local count, parts = 1, {}
  for a = 1, dim do
    local rg = ranges[a]
    if type(rg) ~= "table" or math.type(rg[1]) ~= "integer" or math.type(rg[2]) ~= "integer" or rg[1] > rg[2] then
      mf_fail("option 'box' needs an integer range {lo, hi} with lo <= hi for axis %s", axes[a])
    end
    count = count * (rg[2] - rg[1] + 1)
    parts[a] = string.format("%s %d..%d", axes[a], rg[1], rg[2])
  end
  local npairs = dim * (dim - 1) // 2
  if count * npairs > 1000000 then mf_fail("the box has %d plaquettes: at most 10^6 are checked", count * npairs) end
  local rep = setmetatable({ field = tostring(c), box = ranges, box_text = table.concat(parts, ", "),
    plaquettes = 0, skipped = 0, defects = 0 }, Report)
  local P = {}
  for a = 1, dim do P[a] = ranges[a][1] end
  while true do
    for a = 1, dim - 1 do
      for b = a + 1, dim do
        local Q = {}
        for k = 1, dim do Q[k] = P[k] + ((k == a or k == b) and 1 or 0) end
        local ok1, W1 = pcall(c.work, c, P, Q, { axes[a], axes[b] })
        local ok2, W2 = pcall(c.work, c, P, Q, { axes[b], axes[a] })
        if not (ok1 and ok2) then
          local err = tostring(ok1 and W2 or W1)
          if not err:find("has a pole", 1, true) then error(err, 0) end
          rep.skipped = rep.skipped + 1
        else
          rep.plaquettes = rep.plaquettes + 1
          local D, nonzero = {}, false
          for i = 1, #W1 do
            D[i] = {}
            for j = 1, #W1 do
              D[i][j] = W1[i][j] - W2[i][j]
              nonzero = nonzero or D[i][j]:sign() ~= 0
            end
          end
          if nonzero then
            rep.defects = rep.defects + 1
            if not rep.first_defect then
              local pt = {}
              for k = 1, dim do pt[k] = P[k] end
              rep.first_defect = { point = pt, axes = { axes[a], axes[b] }, defect = D, lhs = W1, rhs = W2 }
            end
          end
        end
      end
    end
    local k = dim
    while k >= 1 do
      P[k] = P[k] + 1
      if P[k] <= ranges[k][2] then break end
      P[k] = ranges[k][1]
      k = k - 1
    end
    if k < 1 then break end
  end
  if dim == 1 then
    rep.conservative = true
    rep.verdict = "a field with one axis has no plaquettes: it is conservative trivially"
  elseif rep.defects > 0 then
    local d = rep.first_defect
    rep.conservative = false
    rep.verdict = string.format("not conservative: %d of the %d plaquettes checked in the box have a nonzero defect; "
      .. "the first at P = (%s) on the axes %s, %s: M_%s(P) M_%s(P+e_%s) - M_%s(P) M_%s(P+e_%s) = %s",
      rep.defects, rep.plaquettes, table.concat(d.point, ", "), d.axes[1], d.axes[2], d.axes[1], d.axes[2],
      d.axes[1], d.axes[2], d.axes[1], d.axes[2], matstr(d.defect))
  elseif rep.plaquettes == 0 then
    rep.conservative = false
    rep.verdict = string.format("nothing checked: every one of the %d plaquettes in the box meets a pole", rep.skipped)
  else
    rep.conservative = true
    rep.verdict = string.format("every one of the %d plaquettes checked in the box closes exactly "
      .. "(M_a(P) M_b(P+e_a) = M_b(P) M_a(P+e_b))%s; a finite check: CMF:is_conservative decides it identically",
      rep.plaquettes, rep.skipped > 0 and string.format(", %d skipped at poles", rep.skipped) or "")
  end
  return rep
end

if core.check then core.check.matrix_field = matrix_field end

return cmf
