"""W1 VAE inference in PyTorch 1.13 on one thread: batch-1 reconstruct latency (median us) and
batch-256 encode throughput, the twin of `./latent4j bench infer`. Run with OPENBLAS_NUM_THREADS=1.
Drops OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE before torch loads OpenBLAS; prints the kernel set it ran as "openblas"."""
import os, sys
_DROPPED = {k: os.environ.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
import time, json, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_w1 import VAE
from pytorch_w2 import openblas_info
torch.set_num_threads(1); torch.set_flush_denormal(True)
blas = openblas_info(1)
m = VAE().eval()
one = torch.rand(1, 784); batch = torch.rand(256, 784)
def recon(x):
    h = m.encoder(x); return torch.sigmoid(m.decoder(m.fc_mu(h)))
def enc(x):
    h = m.encoder(x); return m.fc_mu(h), m.fc_logvar(h)
with torch.no_grad():
    t_end = time.perf_counter() + 2
    while time.perf_counter() < t_end: recon(one); enc(batch)
    lat = []
    for _ in range(2001):
        t0 = time.perf_counter(); recon(one); lat.append((time.perf_counter() - t0) * 1e6)
    thr = []
    for _ in range(21):
        t0 = time.perf_counter(); enc(batch); thr.append(256 / (time.perf_counter() - t0))
lat.sort(); thr.sort()
print(json.dumps({"torch": torch.__version__, "threads": 1, "reconstruct_batch1_us": lat[len(lat)//2], "encode_batch256_samples_per_s": thr[len(thr)//2],
                  "openblas": blas and blas["corename"], "dropped_env": _DROPPED}))
