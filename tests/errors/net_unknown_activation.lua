-- an activation the networks do not have
-- expect: net.mlp
-- expect: unknown activation 'swish'
net.mlp{dim = 2, act = "swish"}
