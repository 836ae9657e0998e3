#!/usr/bin/python3
"""Write tests/data/torch_mlp.safetensors: a PyTorch MLP 2:16,16:2:tanh in
float64 (tensors layers.0.weight, layers.0.bias, layers.2.*, layers.4.*, the
names of an nn.Sequential whose activations sit at odd indices), plus the
tensors `inputs` (5 x 2) and `expected` (the network's outputs there) for
tests/lua/net.lua. Run once; the file is committed.

The writer is the safetensors layout done by hand (no safetensors package
needed): 8-byte little-endian header length, JSON header, raw data."""
import json, struct, sys

import torch

torch.manual_seed(7)


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(2, 16), torch.nn.Tanh(),
            torch.nn.Linear(16, 16), torch.nn.Tanh(),
            torch.nn.Linear(16, 2))

    def forward(self, x):
        return self.layers(x)


def save(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt", "writer": "make_torch_mlp.py"}}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().astype("<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


model = MLP().double()
x = torch.tensor([[0.1, -0.2], [1.5, 0.3], [-0.7, 2.0], [0.0, 0.0], [3.0, -1.0]], dtype=torch.float64)
with torch.no_grad():
    y = model(x)
tensors = dict(model.state_dict())
tensors["inputs"] = x
tensors["expected"] = y
save(sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_mlp.safetensors", tensors)
