"""PCA and PPCA-style figures with scikit-learn on the full Fashion-MNIST (Debian's python3-sklearn),
the twin of `./latent4j pca|ppca --json`. Usage: python3 sklearn_pca.py COMPONENTS [DATA_DIR]
Prints one JSON object: fit_s of PCA (svd_solver auto), explained_variance (1/N like latent4j),
noise_variance and mean log-likelihood (sklearn's PCA.score is the PPCA log-likelihood)."""
import gzip, json, struct, sys, time

import numpy as np
from sklearn.decomposition import PCA

q = int(sys.argv[1])
data_dir = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{data_dir}/train-images-idx3-ubyte.gz", "rb") as f:
    _, n, r, c = struct.unpack(">IIII", f.read(16))
    x = np.frombuffer(f.read(n * r * c), dtype=np.uint8).reshape(n, r * c).astype(np.float32) / 255.0
t0 = time.perf_counter()
pca = PCA(n_components=q, random_state=0).fit(x)
fit_s = time.perf_counter() - t0
scale = (n - 1) / n  # sklearn divides by N - 1
print(json.dumps({"rows": n, "features": r * c, "components": q, "solver": pca.svd_solver,
                  "explained_variance": (pca.explained_variance_ * scale).tolist(),
                  "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
                  "noise_variance": float(pca.noise_variance_ * scale), "log_likelihood": float(pca.score(x)), "fit_s": fit_s}))
