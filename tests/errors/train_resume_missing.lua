-- expect: net.train: cannot resume from /nonexistent/ck.safetensors
net.train(net.mlp{dim = 2}, {data = array.randn{10, 2}, loss = loss.fm(), steps = 5, resume = "/nonexistent/ck.safetensors"})
