"""Loads a latent4j model file into the equivalent PyTorch modules with load_state_dict(strict=True)
and compares PyTorch's reconstruction of some rows with latent4j's (`latent4j reconstruct`).
Usage: python3 check_pytorch_load.py MODEL.safetensors ROWS.csv LATENT4J_RECON.csv
A W1 file (dense VAE) loads into pytorch_w1.VAE; a W2 file (convolutional VAE: 4-D conv weights,
e.g. from `latent4j train --spec dsl-examples/conv-vae.json`) into pytorch_w2.VAE, the same
nn.Sequential modules (Conv2d weights (out, in, k, k), ConvTranspose2d (in, out, k, k)).
The safetensors file is parsed with json + struct only (the format is that simple), so neither
the safetensors package nor a newer torch is needed.
"""
import json, struct, sys

import torch


path, rows_csv, recon_csv = sys.argv[1:4]
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
state = {}
for name, t in header.items():
    if name == "__metadata__":
        continue
    a, b = t["data_offsets"]
    state[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t["shape"])
conv = len(state["encoder.0.weight"].shape) == 4
if conv:
    from pytorch_w2 import VAE
else:
    from pytorch_w1 import VAE
model = VAE()
model.load_state_dict(state, strict=True)
x = torch.tensor([[float(v) for v in line.split(",")] for line in open(rows_csv) if line.strip()])
if conv:
    x = x.reshape(-1, 1, 28, 28)
ours = torch.tensor([[float(v) for v in line.split(",")] for line in open(recon_csv) if line.strip()])
with torch.no_grad():
    h = model.encoder(x)
    theirs = torch.sigmoid(model.decoder(model.fc_mu(h))).reshape(x.shape[0], -1)
diff = (theirs - ours).abs().max().item()
print(json.dumps({"model": "w2 (conv)" if conv else "w1 (dense)", "tensors": len(state), "rows": x.shape[0], "max_abs_diff": diff}))
sys.exit(0 if diff < 1e-4 else 1)
