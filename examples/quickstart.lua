-- quickstart.lua: a first fieldlab experiment with arrays.
--
--   fieldlab examples/quickstart.lua [N | small]   (N samples, default 20000; small: 2000)
--
-- 1. Fit a cubic to noisy samples by least squares (LAPACK dgelsd), check the
--    fit against the normal equations, and compare the coefficient errors
--    with their predicted standard errors sigma * sqrt(diag((X^T X)^-1)).
-- 2. Draw Gaussian samples with a chosen covariance through its Cholesky
--    factor, and recover the covariance's eigenvalues from the samples.
-- 3. Save the samples as .npy (numpy reads them with np.load) and load them back.
local n = tonumber(arg and arg[1]) or (arg and arg[1] == "small" and 2000) or 20000
local sigma = 0.05

print(string.format("fieldlab %s, %d threads, seed %d", fieldlab.version(), fieldlab.threads(), fieldlab.seed()))

-- 1. least squares
local truth = array.from{0.5, -1.0, 2.0, 0.25}           -- c0 + c1 x + c2 x^2 + c3 x^3
local x = array.linspace(-1, 1, n)
local X = array.stack({array.ones(n), x, x ^ 2, x ^ 3}, 2) -- n x 4 design matrix
local y = X:matmul(truth) + array.randn(n, {seed = 1}) * sigma
local c, rank = array.lstsq(X, y)
local c_normal = array.solve(X:t():matmul(X), X:t():matmul(y))
local cov = array.solve(X:t():matmul(X), array.eye(4)) * sigma ^ 2
print("\n1. cubic fit by least squares, n = " .. n)
print("   coefficient   truth      fitted     error/SE")
for i = 1, 4 do
  local se = math.sqrt(cov:get(i, i))
  print(string.format("   c%d          %7.4f   %9.6f   %+6.2f", i - 1, truth[i], c[i], (c[i] - truth[i]) / se))
end
print(string.format("   rank %d; lstsq vs normal equations: max difference %.2e", rank, (c - c_normal):abs():max()))
local resid = y - X:matmul(c)
print(string.format("   residual std %.5f (noise sigma %.5f)", resid:std(), sigma))

-- 2. covariance through a Cholesky factor
local S = array.from{{2.0, 0.8, 0.3}, {0.8, 1.0, 0.2}, {0.3, 0.2, 0.5}}
local L = array.cholesky(S)
local z = array.randn({n, 3}, {seed = 2}):matmul(L:t())  -- rows ~ N(0, S)
local zc = z - z:mean(1)
local S_hat = zc:t():matmul(zc) / (n - 1)
local w = array.eigh(S)
local w_hat = array.eigh(S_hat)
print("\n2. eigenvalues of the covariance, exact vs from samples")
for i = 1, 3 do print(string.format("   %.4f   %.4f", w[i], w_hat[i])) end
print(string.format("   max |S_hat - S| = %.4f (sampling error ~ %.4f)", (S_hat - S):abs():max(), 2 / math.sqrt(n)))

-- 3. .npy round trip
local path = os.tmpname() .. ".npy"
z:save(path)
local back = array.load(path)
os.remove(path)
print(string.format("\n3. saved %s to .npy and loaded it back: identical = %s", table.concat(back.shape, "x"),
  tostring((back - z):abs():max() == 0)))
