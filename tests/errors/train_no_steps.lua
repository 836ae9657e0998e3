-- expect: option 'steps' must be an integer >= 1
net.train(net.mlp{dim = 2}, {data = array.randn{10, 2}, loss = loss.fm()})
