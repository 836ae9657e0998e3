-- an eps loss on a network parametrised for the velocity
-- expect: net.train
-- expect: "eps"
-- expect: "velocity"
local m = net.mlp{dim = 2}
net.train(m, {data = array.randn{10, 2}, loss = loss.dsm(diffusion.vp(), {target = "eps"}), steps = 10})
