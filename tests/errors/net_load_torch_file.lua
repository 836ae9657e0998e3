-- net.load of a PyTorch file, which records no architecture
-- expect: net.load
-- expect: no fieldlab architecture in __metadata__
local data = (os.getenv("top_srcdir") or ".") .. "/tests/data/"
net.load(data .. "torch_mlp.safetensors")
