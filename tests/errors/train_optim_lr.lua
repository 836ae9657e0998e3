-- expect: optim.adam: learning rate must be positive
optim.adam(ad.params(), {lr = -1})
