-- Arithmetic, broadcasting, reductions, BLAS and LAPACK against independent computations.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local a = array.from{{1, 2, 3}, {4, 5, 6}}
-- broadcasting: scalar, row, column, same shape, both sides
T.allclose(a + 1, {{2, 3, 4}, {5, 6, 7}})
T.allclose(10 - a, {{9, 8, 7}, {6, 5, 4}})
T.allclose(a * array.from{1, 10, 100}, {{1, 20, 300}, {4, 50, 600}})
T.allclose(a / array.from{{1}, {2}}, {{1, 2, 3}, {2, 2.5, 3}})
T.allclose(array.from{{1}, {2}} + array.from{10, 20, 30}, {{11, 21, 31}, {12, 22, 32}}, 0, "(2,1)+(3)")
T.allclose(a ^ 2, {{1, 4, 9}, {16, 25, 36}})
T.allclose(2 ^ array.from{1, 2, 3}, {2, 4, 8})
T.allclose(-a, {{-1, -2, -3}, {-4, -5, -6}})
T.allclose(a + a, a * 2)
T.allclose(a + {1, 1, 1}, a + 1, 0, "a table operand is converted")
local b3 = array.arange(24):reshape(2, 3, 4) + array.arange(4)
T.eq(b3:get(2, 3, 4), 23 + 3, "3-D + row")

-- element-wise maps against math.*
local x = array.linspace(0.1, 2, 7)
for _, f in ipairs{"exp", "log", "sqrt", "abs", "sin", "cos", "tanh"} do
  local y = x[f](x)
  for i = 1, 7 do
    local ref = f == "tanh" and (math.exp(2 * x[i]) - 1) / (math.exp(2 * x[i]) + 1) or math[f](x[i])
    T.near(y[i], ref, 1e-14, f)
  end
end

-- reductions, over all and along axes
T.eq(a:sum(), 21); T.eq(a:mean(), 3.5); T.eq(a:min(), 1); T.eq(a:max(), 6)
T.near(a:std(), math.sqrt(35 / 12), 1e-14, "population std")
T.near(a:norm(), math.sqrt(91), 1e-14, "norm")
T.eq(a:argmax(), 6); T.eq(a:argmin(), 1)
T.allclose(a:sum(1), {5, 7, 9}); T.allclose(a:sum(2), {6, 15})
T.allclose(a:mean(1), {2.5, 3.5, 4.5}); T.allclose(a:max(2), {3, 6})
T.allclose(a:std(2), {math.sqrt(2 / 3), math.sqrt(2 / 3)}, 1e-14)
T.allclose(a:argmax(1), {2, 2, 2}); T.allclose(a:argmin(2), {1, 1})
T.allclose(a:norm(2), {math.sqrt(14), math.sqrt(77)}, 1e-14)
T.allclose(a:sum(-1), a:sum(2), 0, "negative axis")

-- matmul against explicit sums
local A = array.randn({5, 4}, {seed = 1})
local B = array.randn({4, 3}, {seed = 2})
local C = A:matmul(B)
for i = 1, 5 do for j = 1, 3 do
  local s = 0
  for k = 1, 4 do s = s + A:get(i, k) * B:get(k, j) end
  T.near(C:get(i, j), s, 1e-13, "matmul entry")
end end
T.allclose(array.matmul(A, B), C, 0)
local v = array.from{1, 2, 3, 4}
T.allclose(A:matmul(v), A:matmul(v:reshape(4, 1)):reshape(5), 1e-14, "matrix-vector")
T.near(v:dot(v), 30, 0, "dot")

-- linear algebra: solve, cholesky, eigh, svd, lstsq, det, logdet
local M = array.from{{4, 1, 0}, {1, 3, 1}, {0, 1, 2}}
local rhs = array.from{1, 2, 3}
local sol = array.solve(M, rhs)
T.allclose(M:matmul(sol), rhs, 1e-13, "solve residual")
T.near(array.det(M), 4 * (3 * 2 - 1) - 1 * (1 * 2 - 0), 1e-13, "det by cofactors")
local sign, logabs = array.logdet(M)
T.eq(sign, 1); T.near(logabs, math.log(18), 1e-13, "logdet")
T.near(array.det(array.from{{0, 1}, {1, 0}}), -1, 1e-15, "permutation det")
local L = array.cholesky(M)
T.allclose(L:matmul(L:t()), M, 1e-13, "L L^T = A")
T.eq(L:get(1, 2), 0, "L is lower triangular")
local w, V = array.eigh(array.from{{2, 1}, {1, 2}})
T.allclose(w, {1, 3}, 1e-14, "eigenvalues")
T.allclose(array.from{{2, 1}, {1, 2}}:matmul(V), V * w, 1e-14, "A V = V diag(w)")
local S0 = array.randn({6, 4}, {seed = 9})
local U, S, Vt = array.svd(S0)
T.allclose(U:matmul(array.eye(4) * S):matmul(Vt), S0, 1e-13, "U S Vt = A")
T.allclose(U:t():matmul(U), array.eye(4), 1e-13, "U orthonormal")
-- least squares: exact recovery of a noiseless line, and the normal equations
local xs = array.linspace(0, 1, 11)
local X = array.stack({array.ones(11), xs}, 2)
local coef, rank, sv = array.lstsq(X, xs * 3 + 2)
T.allclose(coef, {2, 3}, 1e-13, "line fit"); T.eq(rank, 2); T.eq(sv.size, 2)
local yn = array.randn(11, {seed = 4})
local c1 = array.lstsq(X, yn)
local c2 = array.solve(X:t():matmul(X), X:t():matmul(yn))
T.allclose(c1, c2, 1e-12, "lstsq = normal equations")

print("array_math ok")
