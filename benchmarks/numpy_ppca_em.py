"""PPCA by EM in numpy (float32 products on OpenBLAS, q x q algebra in float64), the twin of
`./latent4j ppca --em --json`: same algorithm (data-space EM, no D x D matrix), random start.
Usage: python3 numpy_ppca_em.py COMPONENTS ITERATIONS [DATA_DIR]
Prints one JSON object: iterations, fit_s, iteration_s, noise_variance, log_likelihood (mean per row)."""
import gzip, json, struct, sys, time

import numpy as np

q, iters = int(sys.argv[1]), int(sys.argv[2])
data_dir = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{data_dir}/train-images-idx3-ubyte.gz", "rb") as f:
    _, n, r, c = struct.unpack(">IIII", f.read(16))
    x = np.frombuffer(f.read(n * r * c), dtype=np.uint8).reshape(n, r * c).astype(np.float32) / 255.0
d = x.shape[1]
t0 = time.perf_counter()
mean = x.mean(axis=0, dtype=np.float64)
xc = (x - mean).astype(np.float32)
tr_s = float(np.einsum("ij,ij->", xc, xc, dtype=np.float64)) / n
rng = np.random.default_rng(42)
w = rng.standard_normal((d, q)) * np.sqrt(tr_s / d)
s2 = tr_s / d
ll = None
for it in range(iters + 1):
    m = w.T @ w + s2 * np.eye(q)
    minv = np.linalg.inv(m)
    a = xc @ w.astype(np.float32)                      # n x q
    ata = (a.T @ a).astype(np.float64)
    xta = (xc.T @ a).astype(np.float64)                # d x q
    t = np.sum(minv * ata.T) / n
    _, logdet_m = np.linalg.slogdet(m)
    ll = -0.5 * (d * np.log(2 * np.pi) + (d - q) * np.log(s2) + logdet_m + (tr_s - t) / s2)
    if it == iters:
        break
    szz = minv @ ata @ minv + n * s2 * minv
    sxz = xta @ minv
    w_new = sxz @ np.linalg.inv(szz)
    cross = np.sum(w_new * sxz)
    quad = np.sum(szz * (w_new.T @ w_new).T)
    w = w_new
    s2 = (n * tr_s - 2 * cross + quad) / (n * d)
fit_s = time.perf_counter() - t0
print(json.dumps({"rows": n, "features": d, "components": q, "iterations": iters, "fit_s": fit_s,
                  "iteration_s": fit_s / (iters + 1), "noise_variance": s2, "log_likelihood": float(ll)}))
