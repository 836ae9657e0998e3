-- Lua side of module sample
return {}
