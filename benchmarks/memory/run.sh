#!/usr/bin/env bash
# Peak resident memory (GNU time's "Maximum resident set size") of W1 training, latent4j beside
# PyTorch 1.13 on the same full Fashion-MNIST, same epochs, each in a fresh process, in one run.
#   flock /work/build.lock benchmarks/memory/run.sh [THREADS] [EPOCHS]     (default 2 2)
# latent4j runs through its launcher as a user would (no -Xmx); PyTorch as its fair peer.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="${1:-2}"; E="${2:-2}"
OUT="$(mktemp -d)"
rss() { grep -o 'Maximum resident set size (kbytes): [0-9]*' "$1" | grep -o '[0-9]*$'; }
"$ROOT/latent4j" build >/dev/null 2>&1 || true
/usr/bin/time -v "$ROOT/latent4j" bench train --workload w1 --threads "$T" --epochs "$E" >"$OUT/l4j.out" 2>"$OUT/l4j.time"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS="$T" \
    /usr/bin/time -v /usr/bin/python3 "$ROOT/benchmarks/pytorch_w1.py" "$T" "$E" >"$OUT/pt.out" 2>"$OUT/pt.time"
a=$(rss "$OUT/l4j.time"); b=$(rss "$OUT/pt.time")
grep '^epoch' "$OUT/l4j.out" | sed 's/^/latent4j /'
sed 's/^/pytorch  /' "$OUT/pt.out"
awk -v a="$a" -v b="$b" -v t="$T" -v e="$E" 'BEGIN { printf "W1 training, %d thread(s), %d epochs: peak RSS latent4j %.0f MB, PyTorch %.0f MB, ratio %.2f\n", t, e, a/1024, b/1024, a/b }'
rm -rf "$OUT"
