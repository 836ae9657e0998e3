-- Lua side of module ad
return {}
