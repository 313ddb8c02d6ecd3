#!/usr/bin/python3
"""Makes the ONNX test fixtures of latent4j's ONNX reader (src/test/resources/onnx/).

Small PyTorch models of the autoencoder family, exported by PyTorch's own torch.onnx (Debian's
python3-torch, 1.13) at opset 13 with a dynamic batch dimension, with a batch of inputs and the
outputs PyTorch computed for them (in double precision, then rounded to float32, so that the
recorded outputs are the exact function up to float32 rounding, not PyTorch's float32 error):

  vae_encoder.onnx   x (20) -> mu (4), logvar (4), std (4): Gemm, BatchNormalization, LeakyReLU,
                     Slice, Concat, ELU, Split (torch.split), Exp, Mul, Softplus, Tanh
  vae_decoder.onnx   z (4) -> reconstruction (20): Gemm, ReLU, Sub, Div, Sigmoid, Add, MatMul
  conv_ae.onnx       x (1x12x12) -> reconstruction (1x12x12), code (6): Conv, ReLU, BatchNorm2d,
                     LeakyReLU, Flatten, Gemm, Tanh, Reshape, ConvTranspose (output_padding 1),
                     Sigmoid, Identity-free outputs

and for each model NAME: NAME.in.<input>.f32 and NAME.out.<output>.f32, raw little-endian
float32 of shape (batch, ...) where batch = 5. Run from the repository root:

  /usr/bin/python3 benchmarks/onnx_fixtures.py
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "onnx")
BATCH = 5
OPSET = 13


class VaeEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.bn1 = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16 + 4, 12)
        self.heads = nn.Linear(12, 8)

    def forward(self, x):
        h = F.leaky_relu(self.bn1(self.fc1(x)), 0.1)
        h = torch.cat([h, x[:, 2:6]], dim=1)          # Slice + Concat
        h = F.elu(self.fc2(h), alpha=0.7)
        mu, logvar = torch.split(self.heads(h), [4, 4], dim=1)  # Split
        logvar = 2.0 * torch.tanh(logvar)
        std = torch.exp(0.5 * logvar) + F.softplus(mu) * 0.01
        return mu, logvar, std


class VaeDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 20)
        self.register_buffer("offset", torch.linspace(-0.5, 0.5, 20))
        self.register_buffer("scale", torch.linspace(1.0, 2.0, 20))
        self.w3 = nn.Parameter(torch.randn(20, 20) * 0.2)

    def forward(self, z):
        h = F.relu(self.fc1(z))
        y = (self.fc2(h) - self.offset) / self.scale   # Sub, Div with a broadcast row
        y = y + torch.matmul(torch.sigmoid(y), self.w3)  # MatMul without bias, Add of two values
        return torch.sigmoid(y)


class ConvAe(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, stride=2, padding=1)      # 12 -> 6
        self.bn = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)      # 6 -> 3
        self.enc = nn.Linear(8 * 3 * 3, 6)
        self.dec = nn.Linear(6, 8 * 3 * 3)
        self.t1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)  # 3 -> 6
        self.t2 = nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1)  # 6 -> 12

    def forward(self, x):
        h = self.bn(F.relu(self.c1(x)))
        h = F.leaky_relu(self.c2(h), 0.2)
        code = torch.tanh(self.enc(torch.flatten(h, 1)))
        h = F.relu(self.dec(code)).view(-1, 8, 3, 3)
        h = F.relu(self.t1(h))
        return torch.sigmoid(self.t2(h)), code


def randomize_batch_norm(m, g):
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            mod.bias.data.copy_(torch.randn(n, generator=g) * 0.2)


def write(path, array):
    a = np.ascontiguousarray(array, dtype="<f4")
    with open(path, "wb") as f:
        f.write(a.tobytes())


def export(name, model, inputs, input_names, output_names):
    model.eval()
    path = os.path.join(OUT, name + ".onnx")
    axes = {n: {0: "batch"} for n in input_names + output_names}
    with torch.no_grad():
        torch.onnx.export(model, tuple(inputs), path, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=axes, do_constant_folding=True)
        # The reference: the same model in double precision on the same (float32) inputs.
        outs = model.double()(*[t.double() for t in inputs])
        model.float()
    if not isinstance(outs, tuple):
        outs = (outs,)
    onnx.checker.check_model(onnx.load(path))
    for n, t in zip(input_names, inputs):
        write(os.path.join(OUT, name + ".in." + n + ".f32"), t.numpy())
    for n, t in zip(output_names, outs):
        write(os.path.join(OUT, name + ".out." + n + ".f32"), t.numpy())
    ops = sorted({node.op_type for node in onnx.load(path).graph.node})
    print(f"{name}.onnx: {os.path.getsize(path)} bytes, ops {ops}, outputs "
          + ", ".join(f"{n} {tuple(t.shape)}" for n, t in zip(output_names, outs)))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(16)
    g = torch.Generator().manual_seed(16)
    enc = VaeEncoder()
    randomize_batch_norm(enc, g)
    export("vae_encoder", enc, [torch.randn(BATCH, 20, generator=g)], ["x"], ["mu", "logvar", "std"])
    export("vae_decoder", VaeDecoder(), [torch.randn(BATCH, 4, generator=g)], ["z"], ["reconstruction"])
    conv = ConvAe()
    randomize_batch_norm(conv, g)
    export("conv_ae", conv, [torch.rand(BATCH, 1, 12, 12, generator=g)], ["x"], ["reconstruction", "code"])
    print("torch", torch.__version__, "onnx", onnx.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
