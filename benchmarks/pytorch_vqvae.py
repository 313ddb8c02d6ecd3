r"""The VQ-VAE benchmark model in PyTorch 1.13 (Debian's python3-torch), the same shape and recipe as latent4j's
dsl-examples/vq-vae.json: full Fashion-MNIST, 60000/10000, pixels / 255.
Encoder Conv2d(1,32,4,2,1)-ReLU-Conv2d(32,64,4,2,1)-ReLU -> quantizer.project Conv2d(64,64,1) = z_e on a 7x7 grid;
each position's 64 values -> the nearest of 512 codes (squared distance as ||e||^2 - 2 z.e, ties to the smaller index);
straight-through z_e + sg(e - z_e) into the decoder ConvTranspose2d(64,32,4,2,1)-ReLU-ConvTranspose2d(32,1,4,2,1) -> logits.
Loss per image: BCE with logits summed over the pixels + 0.25 ||z_e - sg(e)||^2 summed over the grid (the codebook loss
is reported only: the codebook follows moving averages, decay 0.99, Laplace smoothing eps 1e-5, cluster sizes and averages
starting at 0, a code never assigned keeping its vector); after each step a code whose cluster size is under 0.03 x the
mean is re-seeded from a random z_e row of the batch, its cluster size set to the mean and its average to row x mean.
Batch loss = mean over the batch; Adam 1e-3, batch 128, torch.manual_seed(42).
Prints one JSON object with the kernels it runs (as pytorch_w2.py), then one per epoch: samples_per_s, epoch_s,
train_reconstruction, test_reconstruction (BCE nats per image), test_mse, test_psnr, codes_used (of 512, on the first
10000 training images), perplexity.

The peer's own command (best of 1 and 2 threads):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=THREADS \
      /usr/bin/python3 benchmarks/pytorch_vqvae.py THREADS [EPOCHS] [DATA_DIR] [--limit N] [--steps S]
--steps S stops each epoch after S batches (throughput runs).
"""
import os, sys

_FORCING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_DROPPED = {k: os.environ.pop(k) for k in _FORCING if k in os.environ}
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse, json, math, time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_w2 import images, loaded_libraries, openblas_info, onednn_kernels  # noqa: E402


class VQVAE(nn.Module):
    def __init__(self, codes=512, dim=64, beta=0.25, decay=0.99, eps=1e-5, dead=0.03):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU())
        self.project = nn.Conv2d(64, dim, 1)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(dim, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1))
        bound = math.sqrt(6.0 / (dim + codes))
        self.register_buffer("embedding", (torch.rand(codes, dim) * 2 - 1) * bound)
        self.register_buffer("cluster_size", torch.zeros(codes))
        self.register_buffer("embed_avg", torch.zeros(codes, dim))
        self.codes, self.dim, self.beta, self.decay, self.eps, self.dead = codes, dim, beta, decay, eps, dead
        self.revived = 0

    def quantize(self, ze):
        rows = ze.permute(0, 2, 3, 1).reshape(-1, self.dim)
        scores = (self.embedding * self.embedding).sum(1) - 2 * rows @ self.embedding.t()
        index = scores.argmin(1)
        e = self.embedding[index].reshape(ze.shape[0], ze.shape[2], ze.shape[3], self.dim).permute(0, 3, 1, 2)
        return rows, index, e

    def forward(self, x):
        ze = self.project(self.encoder(x))
        rows, index, e = self.quantize(ze.detach())
        zq = ze + (e - ze).detach()
        logits = self.decoder(zq)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        commit = self.beta * (ze - e).pow(2).flatten(1).sum(1)
        self._rows, self._index = rows, index
        return rec, commit, logits

    @torch.no_grad()
    def update(self):
        rows, index = self._rows, self._index
        onehot = F.one_hot(index, self.codes).float()
        counts, sums = onehot.sum(0), onehot.t() @ rows
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        mean = self.cluster_size.mean()
        dead = self.cluster_size < self.dead * mean
        k = int(dead.sum())
        if k:
            pick = torch.randint(0, rows.shape[0], (k,))
            self.embedding[dead] = rows[pick]
            self.cluster_size[dead] = mean
            self.embed_avg[dead] = rows[pick] * mean
            self.revived += k
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (n + self.codes * self.eps) * n
        used = self.cluster_size > 0
        self.embedding[used] = self.embed_avg[used] / smoothed[used].unsqueeze(1)


class Probe(nn.Module):
    """What onednn_kernels runs: a forward and backward of the model (returns two terms as the W2 VAE does)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        rec, commit, _ = self.m(x)
        return rec, commit


def main():
    ap = argparse.ArgumentParser(description="VQ-VAE on Fashion-MNIST in PyTorch")
    ap.add_argument("threads", type=int)
    ap.add_argument("epochs", type=int, nargs="?", default=10)
    ap.add_argument("data_dir", nargs="?", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--steps", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    blas = openblas_info(a.threads)
    train = images(a.data_dir, "train-images-idx3-ubyte.gz", a.limit)
    test = images(a.data_dir, "t10k-images-idx3-ubyte.gz", a.limit)
    print(json.dumps({"workload": "vqvae", "threads": a.threads, "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                      "flush_denormal": True, "env": {k: os.environ.get(k) for k in _FORCING + ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")},
                      "dropped_env": _DROPPED, "openblas": blas, "blas_libraries": loaded_libraries("blas", "mkl", "lapack"),
                      "onednn": onednn_kernels(Probe(VQVAE()), train[:8]), "train_images": train.shape[0], "test_images": test.shape[0]}),
          flush=True)
    torch.manual_seed(42)
    model = VQVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(train.shape[0])
        t0 = time.perf_counter()
        model.train()
        rec_sum, seen = 0.0, 0
        for step, i in enumerate(range(0, train.shape[0], 128)):
            if a.steps and step >= a.steps:
                break
            x = train[perm[i:i + 128]]
            rec, commit, _ = model(x)
            loss = (rec + commit).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            model.update()
            rec_sum += float(rec.detach().sum())
            seen += x.shape[0]
        sec = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            rec_t, se = 0.0, 0.0
            for i in range(0, test.shape[0], 1000):
                x = test[i:i + 1000]
                rec, _, logits = model(x)
                rec_t += float(rec.sum())
                se += float((torch.sigmoid(logits) - x).pow(2).sum())
            counts = torch.zeros(512)
            for i in range(0, min(10000, train.shape[0]), 1000):
                model(train[i:i + 1000])
                counts += torch.bincount(model._index, minlength=512).float()
            p = counts / counts.sum()
            nz = p[p > 0]
            mse = se / (test.shape[0] * 784)
        print(json.dumps({"workload": "vqvae", "epoch": epoch, "threads": a.threads, "samples_per_s": seen / sec, "epoch_s": sec,
                          "train_reconstruction": rec_sum / max(1, seen), "test_reconstruction": rec_t / test.shape[0],
                          "test_mse": mse, "test_psnr": 10 * math.log10(1 / mse), "codes_used": int((counts > 0).sum()),
                          "perplexity": float(torch.exp(-(nz * nz.log()).sum())), "revived_total": model.revived}), flush=True)


if __name__ == "__main__":
    main()
