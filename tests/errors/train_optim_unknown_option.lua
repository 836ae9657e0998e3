-- expect: momentum
optim.adam(ad.params(), {momentum = 0.9})
