-- the gradient of a vector-valued network
-- expect: net.gradient
-- expect: needs a potential
net.gradient(net.mlp{dim = 2})
