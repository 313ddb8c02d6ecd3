"""W1 in PyTorch 1.13 (Debian's python3-torch), the same recipe as latent4j's `bench train --workload w1`:
Fashion-MNIST 60000/10000, pixels / 255, VAE 784-512-256 (ReLU) -> mu, logvar (32) -> 256-512 (ReLU) -> 784 logits,
Bernoulli (BCE summed over pixels) + analytic KL, batch loss = mean over the batch, Adam 1e-3, batch 128.
Prints one JSON object per epoch: epoch, threads, samples_per_s, epoch_s, test_neg_elbo (one z sample per image).
Usage: OMP_WAIT_POLICY=PASSIVE python3 pytorch_w1.py THREADS EPOCHS [DATA_DIR]
First prints one JSON object with the OpenBLAS kernel set ("corename") and threads it ran. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (which force slower kernels on some machines) are dropped here, before torch loads OpenBLAS.
"""
import os, sys

_DROPPED = {k: os.environ.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import gzip, json, struct, time

import torch
import torch.nn as nn
import torch.nn.functional as F



def images(data_dir, name):
    with gzip.open(f"{data_dir}/{name}", "rb") as f:
        _, n, r, c = struct.unpack(">IIII", f.read(16))
        return torch.frombuffer(bytearray(f.read(n * r * c)), dtype=torch.uint8).reshape(n, r * c).float() / 255.0



class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU())
        self.fc_mu, self.fc_logvar = nn.Linear(256, 32), nn.Linear(256, 32)
        self.decoder = nn.Sequential(nn.Linear(32, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.decoder(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return rec, kl


def main():
    threads, epochs = int(sys.argv[1]), int(sys.argv[2])
    data_dir = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from pytorch_w2 import openblas_info  # noqa: E402 (sets OpenBLAS's own threads to THREADS too)
    print(json.dumps({"torch": torch.__version__, "threads": threads, "dropped_env": _DROPPED,
                      "openblas": openblas_info(threads)}), flush=True)
    torch.manual_seed(42)
    train, test = images(data_dir, "train-images-idx3-ubyte.gz"), images(data_dir, "t10k-images-idx3-ubyte.gz")
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(train.shape[0])
        t0 = time.perf_counter()
        model.train()
        for i in range(0, train.shape[0], 128):
            x = train[perm[i:i + 128]]
            rec, kl = model(x)
            loss = (rec + kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sec = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            total = 0.0
            for i in range(0, test.shape[0], 1000):
                rec, kl = model(test[i:i + 1000])
                total += float((rec + kl).sum())
        print(json.dumps({"epoch": epoch, "threads": threads, "samples_per_s": train.shape[0] / sec, "epoch_s": sec,
                          "test_neg_elbo": total / test.shape[0]}), flush=True)


if __name__ == "__main__":
    main()
