-- Training: net.train, losses (Lua side)
return {}
