-- Lua side of module integrate
return {}
