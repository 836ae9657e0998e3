-- a misspelt option name
-- expect: widht
net.mlp{dim = 2, widht = 3}
