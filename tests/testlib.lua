-- Helpers for the tests/lua/*.lua assert scripts:
--   local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")
local T = {}

T.srcdir = os.getenv("top_srcdir") or "."
T.data = T.srcdir .. "/tests/data/"

-- |a - b| <= tol * max(1, |b|), with a message naming what was compared.
function T.near(a, b, tol, what)
  tol = tol or 1e-12
  local scale = math.max(1, math.abs(b))
  if not (math.abs(a - b) <= tol * scale) then
    error(string.format("%s: got %.17g, expected %.17g (tol %g)", what or "value", a, b, tol), 2)
  end
end

-- Element-wise comparison of an array with an array or a nested table.
function T.allclose(a, b, tol, what)
  tol = tol or 1e-12
  if not array.is_array(b) then b = array.from(b) end
  local sa, sb = table.concat(a.shape, ","), table.concat(b.shape, ",")
  if sa ~= sb then error(string.format("%s: shape (%s), expected (%s)", what or "array", sa, sb), 2) end
  local diff = (a - b):abs():max()
  local scale = math.max(1, b:abs():max())
  if not (diff <= tol * scale) then
    error(string.format("%s: max difference %.3g > tol %g\n got %s\n expected %s", what or "array", diff,
      tol, tostring(a), tostring(b)), 2)
  end
end

-- f() must raise an error whose message contains every fragment.
function T.raises(f, ...)
  local ok, err = pcall(f)
  if ok then error("expected an error, got none", 2) end
  err = tostring(err)
  for _, frag in ipairs({ ... }) do
    if not err:find(frag, 1, true) then
      error(string.format("error message %q lacks %q", err, frag), 2)
    end
  end
  return err
end

function T.eq(a, b, what)
  if a ~= b then error(string.format("%s: got %s, expected %s", what or "value", tostring(a), tostring(b)), 2) end
end

-- The product of two square matrices given as tables of rows; zero is the
-- additive identity of the entries (0, or an exact Rational or Poly zero).
function T.mat_mul(A, B, zero)
  local C = {}
  for i = 1, #A do
    C[i] = {}
    for j = 1, #A do
      local s = zero or 0
      for k = 1, #A do s = s + A[i][k] * B[k][j] end
      C[i][j] = s
    end
  end
  return C
end

return T
