# Times numpy's float32 matmul (OpenBLAS sgemm in the pip wheel) on the shapes given.
# Run by latent4j's `bench gemm` with OPENBLAS_NUM_THREADS set to the thread count, and with
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from its environment (a machine may set them to force
# slower kernels): the peer runs at its best, and the header says which kernel set OpenBLAS chose.
# argv: JSON list of [m, k, n], minimum seconds per repetition, repetitions.
# Prints one JSON object per shape: {"shape": "MxKxN", "gflops": median}, after a header line.
import json
import sys
import time

import numpy as np

shapes = json.loads(sys.argv[1])
min_s = float(sys.argv[2])
reps = int(sys.argv[3])

blas = "unknown"
try:
    from numpy.lib import _utils_impl  # noqa: F401
except Exception:
    pass
try:
    cfg = np.show_config(mode="dicts")
    blas = "%s %s" % (cfg["Build Dependencies"]["blas"]["name"], cfg["Build Dependencies"]["blas"].get("version", ""))
except Exception:
    pass


def openblas_core():
    """The kernel set OpenBLAS picked at load (e.g. SkylakeX, Zen, Haswell), read from the loaded library."""
    import ctypes
    try:
        maps = open("/proc/self/maps").read().split()
        libs = sorted({w for w in maps if "openblas" in w and ".so" in w})
        for lib in libs:
            dll = ctypes.CDLL(lib)
            for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_", "openblas_get_corename"):
                f = getattr(dll, name, None)
                if f is not None:
                    f.restype = ctypes.c_char_p
                    return f().decode()
    except Exception:
        pass
    return "unknown"


np.matmul(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32))   # loads OpenBLAS
core = openblas_core()
blas = "%s, core %s" % (blas.strip(), core)
print(json.dumps({"numpy": np.__version__, "blas": blas}), flush=True)

rng = np.random.default_rng(1)
for m, k, n in shapes:
    a = rng.random((m, k), dtype=np.float32) * 2 - 1
    b = rng.random((k, n), dtype=np.float32) * 2 - 1
    c = np.empty((m, n), dtype=np.float32)
    t_end = time.perf_counter() + 0.3
    calls = 0
    while calls < 3 or time.perf_counter() < t_end:
        np.matmul(a, b, out=c)
        calls += 1
    t0 = time.perf_counter()
    np.matmul(a, b, out=c)
    one = max(1e-6, time.perf_counter() - t0)
    per = max(1, int(min_s / one + 0.999))
    g = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(per):
            np.matmul(a, b, out=c)
        g.append(2.0 * m * k * n * per / (time.perf_counter() - t0) / 1e9)
    g.sort()
    med = g[len(g) // 2] if len(g) % 2 else 0.5 * (g[len(g) // 2 - 1] + g[len(g) // 2])
    print(json.dumps({"shape": "%dx%dx%d" % (m, k, n), "gflops": med}), flush=True)
