-- Lua side of module metric
return {}
