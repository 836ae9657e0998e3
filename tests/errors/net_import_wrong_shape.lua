-- importing PyTorch weights with an architecture that does not match them
-- expect: net.import_torch
-- expect: layers.2.weight
-- expect: shape [16, 16], the architecture needs [8, 16]
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
net.import_torch(data .. "torch_mlp.safetensors", {arch = "2:16,8:2:tanh"})
