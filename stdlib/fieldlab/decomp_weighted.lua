-- Lua side of module decomp
return {}
