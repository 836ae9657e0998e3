-- expect: unknown optimizer 'rmsprop'
local m = net.mlp{dim = 2}
net.train(m, {data = array.randn{10, 2}, loss = loss.fm(), steps = 10, optimizer = "rmsprop"})
