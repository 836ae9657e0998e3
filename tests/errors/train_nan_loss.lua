-- a loss that becomes NaN stops training, naming the step
-- expect: net.train: the loss is
-- expect: at step 4
local m = net.mlp{dim = 2, hidden = {4}}
net.train(m, {steps = 10, loss = function(model, batch, rng)
  local L = (model:forward(array.randn{4, 2}) ):square():mean()
  if rng.step == 4 then L = L / 0 * 0 end
  return L
end})
