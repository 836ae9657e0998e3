-- Lua side of module net
return {}
