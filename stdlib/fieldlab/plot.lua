-- Lua side of module plot
return {}
