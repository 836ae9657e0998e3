-- Lua side of module check
return {}
