-- Train a score network on the 8gaussians toy data by denoising score
-- matching, save it, reload it, and compare its score with the exact score
-- of the noised mixture at a few times.
--   fieldlab examples/train_score.lua          (full: about a minute)
--   fieldlab examples/train_score.lua small    (a few seconds)
local small = arg and arg[1] == "small"
local vp = diffusion.vp()
local g = data.toy_density("8gaussians")            -- the exact data density (a GMM)
local x = data.toy("8gaussians", 20000, {seed = 1})

local m = net.mlp{dim = 2, hidden = small and {32, 32} or {128, 128, 128}, act = "silu",
  time = "fourier", param = "eps", seed = 1}
local steps = small and 500 or 8000
local file = os.tmpname() .. ".safetensors"
local losses = net.train(m, {data = x, loss = loss.dsm(vp, {target = "eps"}), steps = steps, batch = 256,
  lr = 3e-3, warmup = 100, cosine = true, seed = 2, checkpoint = file, every = steps // 2})
print(string.format("loss: first %.4f, last %.4f", losses[1], losses[losses.size]))

local m2 = net.load(file)                        -- the saved network, bit-identical
os.remove(file); os.remove(file .. ".state.npy")

-- the network's score field (m2 records param = "eps": s = -eps_hat / sigma(t));
-- exact: vp:noised(g).score
local score = vp:score(m2)
local exact = vp:noised(g).score
print("   t   mean relative error of the score")
for _, t in ipairs{0.2, 0.5, 0.8} do
  local sig = vp:sigma(t)
  local xt = vp:alpha(t) * data.toy("8gaussians", 1000, {seed = 7}) + sig * array.randn({1000, 2}, {seed = 8})
  local se = exact(xt, t)
  local d = score(xt, t) - se
  local rel = 0
  for i = 1, 1000 do
    rel = rel + math.sqrt(d[i][1] ^ 2 + d[i][2] ^ 2) / math.sqrt(se[i][1] ^ 2 + se[i][2] ^ 2)
  end
  print(string.format("%4.1f   %.4f", t, rel / 1000))
end
