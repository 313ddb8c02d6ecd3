#!/usr/bin/python3
"""The ONNX files benchmarks/compare-ort times (not checked in: 4 MB): PyTorch 1.13's torch.onnx export
(opset 13, dynamic batch) of two models of the sizes latent4j's README uses, PyTorch's default
initialization (seed 0; the timings do not depend on the values):

  vae_reconstruct.onnx  x (784) -> mu (32), reconstruction (784): the default VAE's encoder
                        784-512-256 (ReLU) -> fc_mu 32, then its decoder 32-256-512-784 on mu, Sigmoid
  conv_ae.onnx          x (1x28x28) -> reconstruction (1x28x28): Conv 16 / 32 (3x3, stride 2, pad 1,
                        ReLU), Flatten, Gemm 1568-32-1568, Reshape, ConvTranspose 16 / 1 (3x3, stride 2,
                        pad 1, output_padding 1), Sigmoid

  /usr/bin/python3 make_models.py OUT_DIR
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.e1, self.e2 = nn.Linear(784, 512), nn.Linear(512, 256)
        self.mu, self.logvar = nn.Linear(256, 32), nn.Linear(256, 32)
        self.d1, self.d2, self.d3 = nn.Linear(32, 256), nn.Linear(256, 512), nn.Linear(512, 784)

    def forward(self, x):
        h = F.relu(self.e2(F.relu(self.e1(x))))
        mu = self.mu(h)
        r = torch.sigmoid(self.d3(F.relu(self.d2(F.relu(self.d1(mu))))))
        return mu, r


class ConvAe(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 16, 3, 2, 1), nn.Conv2d(16, 32, 3, 2, 1)
        self.enc, self.dec = nn.Linear(32 * 7 * 7, 32), nn.Linear(32, 32 * 7 * 7)
        self.t1 = nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1)
        self.t2 = nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1)

    def forward(self, x):
        h = F.relu(self.c2(F.relu(self.c1(x))))
        h = F.relu(self.dec(self.enc(torch.flatten(h, 1)))).view(-1, 32, 7, 7)
        return torch.sigmoid(self.t2(F.relu(self.t1(h))))


def export(model, example, path, outputs):
    model.eval()
    names = ["x"] + outputs
    torch.onnx.export(model, (example,), path, opset_version=13, input_names=["x"], output_names=outputs,
                      dynamic_axes={n: {0: "batch"} for n in names})
    print(path, os.path.getsize(path), "bytes")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    export(Vae(), torch.rand(2, 784), os.path.join(out, "vae_reconstruct.onnx"), ["mu", "reconstruction"])
    export(ConvAe(), torch.rand(2, 1, 28, 28), os.path.join(out, "conv_ae.onnx"), ["reconstruction"])


if __name__ == "__main__":
    main()
