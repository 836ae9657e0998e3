-- Lua side of module data
return {}
