-- import_torch.lua: bring an MLP trained in PyTorch into fieldlab, check it
-- reproduces PyTorch's outputs, and ask whether it is conservative.
--
--   fieldlab examples/import_torch.lua [small | FILE ARCH]
--
-- With no file it uses tests/data/torch_mlp.safetensors (written by
-- tests/data/make_torch_mlp.py), a 2:16,16:2:tanh network with its inputs
-- and PyTorch's outputs saved alongside. For your own network, export the
-- state_dict as safetensors from Python:
--
--   import torch
--   from safetensors.torch import save_file
--   class MLP(torch.nn.Module):
--       def __init__(self):
--           super().__init__()
--           self.layers = torch.nn.Sequential(
--               torch.nn.Linear(2, 64), torch.nn.Tanh(),
--               torch.nn.Linear(64, 64), torch.nn.Tanh(),
--               torch.nn.Linear(64, 2))
--       def forward(self, x):
--           return self.layers(x)
--   model = MLP()            # ... trained ...
--   save_file({k: v.double().contiguous() for k, v in model.state_dict().items()},
--             "m.safetensors")
--
-- and run `fieldlab examples/import_torch.lua m.safetensors 2:64,64:2:tanh`.
-- Names map as layers.K.weight ([out, in], PyTorch's layout) and
-- layers.K.bias, taken in increasing K (see `help "net-files"`).
local small = arg and arg[1] == "small"
local here = (arg and arg[0] or "examples/import_torch.lua"):match("^(.*)/[^/]*$") or "."
local path, arch = here .. "/../tests/data/torch_mlp.safetensors", "2:16,16:2:tanh"
if arg and arg[1] and not small then path, arch = arg[1], arg[2] or arch end

local m = net.import_torch(path, {arch = arch})
print(string.format("imported %s: %s, %d parameters", path, tostring(m), m.nparams))

-- 1. the same outputs as PyTorch (when the file carries inputs and expected outputs)
local t = net.read_tensors(path)
if t.inputs and t.expected then
  local err = (m(t.inputs) - t.expected):abs():max()
  print(string.format("max |fieldlab - torch| at %d saved inputs: %.3g", t.inputs.shape[1], err))
  assert(err < 1e-12, "outputs differ from PyTorch's")
end

-- 2. is it a gradient field? Jacobian asymmetry at random points (exact Jacobians)
local n = small and 200 or 20000
local x = array.randn({n, m.dim}, {seed = 1}) * 1.5
local r = check.jacobian(m, {points = x})
print(string.format("NAsym over %d points: median %.3g, max %.3g (0: conservative, 1: a rotation)",
  n, r.summary.median or r.nasym:median(), r.nasym:max()))

-- 3. it is a field like any other: save it in fieldlab's format and reload it
local out = os.tmpname()
m:save(out)
local back = net.load(out)
print(string.format("save/load round trip: max difference %.3g", (back(x) - m(x)):abs():max()))
os.remove(out)
