-- Apery's zeta(3): the conservative matrix field, its diagonal PCF, the
-- limit and the irrationality measure delta as the depth grows.
--   fieldlab examples/apery.lua [max_depth]     (default 2000)
local maxN = tonumber(arg and arg[1]) or (arg and arg[1] == "small" and 1280) or 2000

local z = cmf.known.zeta3()
print(z, "conservative:", z:is_conservative())

-- the diagonal (1,1) from (0,0) as a polynomial continued fraction
local apery = z:to_pcf({1, 1}, {0, 0})
print(apery)                                   -- PCF(34n^3+51n^2+27n+5, -n^6)

-- its limit is 6/zeta(3); the CMF's own p/q is the Moebius image (1-zeta(3))/zeta(3)
local L = apery:limit(maxN)
print(string.format("depth %d: %d digits", maxN, L:precision()))
print("  PCF value  ", L:value(40))
print("  6/zeta(3)  ", (6 / const.zeta(3, 50)):tostring(40))
print("  CMF value  ", z:limit({1, 1}, 200, {1, 1}):value(40))

-- delta sequence against 6/zeta(3) to enough digits (about 3.1 per step, twice over)
local ref = 6 / const.zeta(3, math.floor(7 * maxN) + 100)
print(string.format("\n%8s %10s %10s", "depth", "digits", "delta"))
local depths, deltas = {}, {}
local N = 10
while N <= maxN do
  local lim = apery:limit(N)
  local d = lim:delta(ref)
  depths[#depths + 1], deltas[#deltas + 1] = N, d
  print(string.format("%8d %10d %10.5f", N, lim:precision(), d))
  N = N * 2
end
print("delta > 0 along the convergents: zeta(3) is irrational (Apery); the limit is about 0.080")

-- a plot of the delta sequence, when the plot module is there
if plot and plot.line then
  plot.line(array.from(depths), array.from(deltas), {file = "apery_delta.png", xlabel = "depth", ylabel = "delta"})
  print("wrote apery_delta.png")
end
