-- 3-D data for a 2-D network
-- expect: net.train
-- expect: dimension 3, the network takes 2
local m = net.mlp{dim = 2, param = "eps"}
net.train(m, {data = array.randn{10, 3}, loss = loss.dsm(diffusion.vp()), steps = 10})
