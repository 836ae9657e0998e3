-- an architecture string in the wrong form
-- expect: net.import_torch
-- expect: is not DIM:HIDDEN
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
net.import_torch(data .. "torch_mlp.safetensors", {arch = "2-16-2"})
