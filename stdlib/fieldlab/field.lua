-- Lua side of module field
return {}
