-- Lua side of module diffusion
return {}
