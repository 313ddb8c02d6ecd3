r"""W2 in PyTorch 1.13 (Debian's python3-torch): a convolutional VAE on the full Fashion-MNIST, 60000/10000, pixels / 255.
Encoder Conv2d(1,32,4,2,1)-ReLU-Conv2d(32,64,4,2,1)-ReLU-Flatten -> Linear(64*7*7, 16) for mu and another for logvar;
decoder Linear(16, 64*7*7)-ReLU-Unflatten(64,7,7)-ConvTranspose2d(64,32,4,2,1)-ReLU-ConvTranspose2d(32,1,4,2,1) -> logits.
Bernoulli (BCE with logits summed over the pixels of an image) + analytic KL, batch loss = mean over the batch of -ELBO,
Adam 1e-3, batch 128, 10 epochs, torch.manual_seed(42).
Prints one JSON object first with the kernels it runs (OpenBLAS core, oneDNN ISA and primitives, the convolution
backends, torch.__config__.show()), then one per epoch: workload, epoch, threads, samples_per_s (training images/s),
epoch_s, train_neg_elbo (mean over the epoch's batches, before each step, as latent4j's Trainer), test_neg_elbo and
test_kl (after the epoch, one z sample per image), nats per image.

The peer's own command (benchmarks/compare-pytorch-w2 runs it for THREADS 1 and 2): OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE would force OpenBLAS onto slower kernels, so they are unset here, and only here:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=THREADS \
      /usr/bin/python3 benchmarks/pytorch_w2.py THREADS [EPOCHS] [DATA_DIR] [--limit N]
EPOCHS defaults to 10, DATA_DIR to Debian's /usr/share/datasets/fashion-mnist; --limit N (smoke runs only) keeps the
first N training and the first N test images, e.g. the smoke run
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 \
      /usr/bin/python3 benchmarks/pytorch_w2.py 1 1 --limit 5000
(or benchmarks/compare-pytorch-w2 1 --limit 5000 for both thread counts). The script also drops the two variables
itself before torch (and so OpenBLAS) is loaded, reports any it dropped, and sets OpenBLAS's threads to THREADS.
"""
import os, sys

# Before torch is imported: OpenBLAS and libgomp read these when they are loaded.
_FORCING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_DROPPED = {k: os.environ.pop(k) for k in _FORCING if k in os.environ}
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse, ctypes, gzip, json, struct, tempfile, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def images(data_dir, name, limit):
    with gzip.open(f"{data_dir}/{name}", "rb") as f:
        _, n, r, c = struct.unpack(">IIII", f.read(16))
        n = min(n, limit) if limit else n
        return torch.frombuffer(bytearray(f.read(n * r * c)), dtype=torch.uint8).reshape(n, 1, r, c).float() / 255.0


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten())
        self.fc_mu, self.fc_logvar = nn.Linear(64 * 7 * 7, 16), nn.Linear(64 * 7 * 7, 16)
        self.decoder = nn.Sequential(nn.Linear(16, 64 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                                     nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.decoder(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return rec, kl


def loaded_libraries(*words):
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if line.rstrip().endswith(".so") or ".so." in line}
    return sorted(p for p in paths if any(w in os.path.basename(p).lower() for w in words))


def openblas_info(threads):
    """Core name, build config and thread count of the OpenBLAS torch loaded (None without OpenBLAS)."""
    for path in loaded_libraries("openblas", "libblas"):
        try:
            lib = ctypes.CDLL(path)
            corename, config = lib.openblas_get_corename, lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        corename.restype = config.restype = ctypes.c_char_p
        lib.openblas_set_num_threads(ctypes.c_int(threads))  # BLAS on THREADS threads too (Linear, ConvTranspose2d's GEMMs)
        return {"library": path, "corename": corename().decode(), "config": config().decode(),
                "threads": lib.openblas_get_num_threads()}
    if os.environ.get("LATENT4J_PEER_ANY_BLAS") != "1":
        # A peer on Debian's reference BLAS (libblas3 without libopenblas0) runs its products several times slower:
        # a ratio against it is a defect, not a result (seen: a VQ-VAE epoch at 262 samples/s instead of ~1600).
        sys.exit("the peer is not at its best: PyTorch loaded no OpenBLAS (BLAS libraries: "
                 + ", ".join(loaded_libraries("blas", "mkl", "lapack")) + "); install it (apt-get install libopenblas0-pthread)"
                 " or set LATENT4J_PEER_ANY_BLAS=1 to run anyway")
    return None


def onednn_kernels(model, x):
    """The oneDNN primitives one training step runs (its verbose log, read from fd 1), and the ISA it reports."""
    sys.stdout.flush()
    saved, log = os.dup(1), tempfile.TemporaryFile()
    os.dup2(log.fileno(), 1)
    try:
        with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
            rec, kl = model(x)
            (rec + kl).mean().backward()
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    log.seek(0)
    isa, kernels = None, set()
    for line in log.read().decode(errors="replace").splitlines():
        f = line.split(",")
        if len(f) > 3 and f[1] == "info" and f[3].startswith("isa:"):
            isa = f[3][4:]
        elif len(f) > 5 and f[1] == "exec" and f[3] != "reorder":
            kernels.add(f"{f[3]} {f[5]}: {f[4]}")
    return {"isa": isa, "primitives": sorted(kernels)}


def conv_backends(model, batch):
    """The backend torch 1.13 picks for each convolution at the training batch shape."""
    out, x = {}, torch.zeros(batch, 1, 28, 28)
    shapes = {"encoder.0": x, "encoder.2": torch.zeros(batch, 32, 14, 14),
              "decoder.3": torch.zeros(batch, 64, 7, 7), "decoder.5": torch.zeros(batch, 32, 14, 14)}
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            transposed = isinstance(m, nn.ConvTranspose2d)
            try:
                b = torch._C._select_conv_backend(shapes[name], m.weight, m.bias, list(m.stride), list(m.padding),
                                                  list(m.dilation), transposed, list(m.output_padding), m.groups)
                out[f"{name} {type(m).__name__}"] = str(b).split(".")[-1]
            except (AttributeError, RuntimeError, TypeError) as e:
                out[f"{name} {type(m).__name__}"] = f"unknown ({e.__class__.__name__})"
    return out


def main():
    ap = argparse.ArgumentParser(description="W2 (convolutional VAE on Fashion-MNIST) in PyTorch")
    ap.add_argument("threads", type=int)
    ap.add_argument("epochs", type=int, nargs="?", default=10)
    ap.add_argument("data_dir", nargs="?", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=0, help="only the first N training and test images (smoke runs)")
    a = ap.parse_args()
    threads, epochs, data_dir = a.threads, a.epochs, a.data_dir
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    blas = openblas_info(threads)
    train = images(data_dir, "train-images-idx3-ubyte.gz", a.limit)
    test = images(data_dir, "t10k-images-idx3-ubyte.gz", a.limit)
    probe = VAE()  # a throwaway model: the seeded run below does not see the probe's random draws
    print(json.dumps({"workload": "w2", "threads": threads, "torch": torch.__version__,
                      "torch_threads": torch.get_num_threads(), "flush_denormal": True,
                      "env": {k: os.environ.get(k) for k in _FORCING + ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")},
                      "dropped_env": _DROPPED, "openblas": blas, "mkl": torch.backends.mkl.is_available(),
                      "blas_libraries": loaded_libraries("blas", "mkl", "lapack"),
                      "onednn": onednn_kernels(probe, train[:8]), "conv_backends": conv_backends(probe, 128),
                      "train_images": train.shape[0], "test_images": test.shape[0],
                      "config": torch.__config__.show()}), flush=True)
    torch.manual_seed(42)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(train.shape[0])
        t0 = time.perf_counter()
        model.train()
        train_sum = 0.0
        for i in range(0, train.shape[0], 128):
            x = train[perm[i:i + 128]]
            rec, kl = model(x)
            neg_elbo = rec + kl
            loss = neg_elbo.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            train_sum += float(neg_elbo.detach().sum())
        sec = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            total, total_kl = 0.0, 0.0
            for i in range(0, test.shape[0], 1000):
                rec, kl = model(test[i:i + 1000])
                total += float((rec + kl).sum())
                total_kl += float(kl.sum())
        print(json.dumps({"workload": "w2", "epoch": epoch, "threads": threads, "samples_per_s": train.shape[0] / sec,
                          "epoch_s": sec, "train_neg_elbo": train_sum / train.shape[0],
                          "test_neg_elbo": total / test.shape[0], "test_kl": total_kl / test.shape[0]}), flush=True)


if __name__ == "__main__":
    main()
