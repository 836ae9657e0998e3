-- data with 3 columns into a network on R^2
-- expect: model:forward
-- expect: x has 3 columns, the network takes 2
local m = net.mlp{dim = 2, hidden = {4}}
m:forward(array.zeros{5, 3})
