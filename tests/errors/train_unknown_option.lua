-- a misspelt option of net.train
-- expect: net.train
-- expect: unknown option 'stpes'
local m = net.mlp{dim = 2, param = "eps"}
net.train(m, {data = array.randn{10, 2}, loss = loss.dsm(diffusion.vp()), stpes = 10})
