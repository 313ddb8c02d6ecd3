"""Wake-sleep for a sigmoid belief net 784-200-200 in plain PyTorch 1.13, the same updates as latent4j's
HelmholtzTrainer with TrainingProcedure.WakeSleep (bench: org.latent4j.bench.HelmholtzBench throughput):
Fashion-MNIST 60000 images / 255, dynamically binarized each step (x ~ Bernoulli(pixel)), batch 100, shuffled each epoch.
  wake:  h1 ~ q(h1|x), h2 ~ q(h2|h1) bottom up (recognition R0: 784->200, R1: 200->200, sigmoid Bernoulli units);
         the generative net (G1: h2->h1, G0: h1->x, prior logits a) ascends log p(x, h1, h2) by the local delta rule
         dG_l = (h_l - p(h_l|h_{l+1}))^T h_{l+1} / n, db_l = mean(h_l - p), da = mean(h2 - sigmoid(a)).
  sleep: h2 ~ p(h2), h1 ~ p(h1|h2), x ~ p(x|h1) top down; the recognition net ascends log q(h|x) at the dream,
         dR_l = (h_{l+1} - q(h_{l+1}|h_l))^T h_l / n.
Both groups: Adam (lr 1e-3, PyTorch's defaults otherwise), gradients set by hand (no autograd), as latent4j does.
Visible biases start at logit(mean pixel), weights N(0, 1) / sqrt(fan_in), other biases 0.
Prints one JSON object per epoch: epoch, threads, samples_per_s, epoch_s, train_bound (mean log p(x,h) - log q(h|x)).
Usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 pytorch_wake_sleep.py THREADS EPOCHS [DATA_DIR]
"""
import gzip, json, os, struct, sys, time

_FORCING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")   # they force OpenBLAS onto slower kernels: the peer runs at its best
_DROPPED = {k: os.environ.pop(k) for k in _FORCING if k in os.environ}
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn.functional as F


def images(data_dir, name):
    with gzip.open(f"{data_dir}/{name}", "rb") as f:
        _, n, r, c = struct.unpack(">IIII", f.read(16))
        return torch.frombuffer(bytearray(f.read(n * r * c)), dtype=torch.uint8).reshape(n, r * c).float() / 255.0


def log_bernoulli(x, logits):
    return (x * logits - F.softplus(logits)).sum(1)


def main():
    threads, epochs = int(sys.argv[1]), int(sys.argv[2])
    data_dir = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from pytorch_w2 import openblas_info  # noqa: E402 (refuses a reference BLAS; OpenBLAS on THREADS threads)
    print(json.dumps({"threads": threads, "dropped_env": _DROPPED, "openblas": openblas_info(threads)}), flush=True)
    torch.manual_seed(1)
    x_train = images(data_dir, "train-images-idx3-ubyte.gz")
    widths = [784, 200, 200]
    # generative: G[l] (w_l x w_{l+1}), b[l] (w_l); prior a (w_L); recognition: R[l] (w_{l+1} x w_l), c[l] (w_{l+1})
    G = [torch.randn(widths[l], widths[l + 1]) / widths[l + 1] ** 0.5 for l in range(2)]
    b = [torch.zeros(widths[l]) for l in range(2)]
    m = x_train.mean(0).clamp(1e-3, 1 - 1e-3)
    b[0] = torch.log(m / (1 - m))
    a = torch.zeros(widths[2])
    R = [torch.randn(widths[l + 1], widths[l]) / widths[l] ** 0.5 for l in range(2)]
    c = [torch.zeros(widths[l + 1]) for l in range(2)]
    gen = G + b + [a]
    rec = R + c
    for p in gen + rec:
        p.grad = torch.zeros_like(p)
    opt_g = torch.optim.Adam(gen, lr=1e-3)
    opt_r = torch.optim.Adam(rec, lr=1e-3)
    n_rows, batch = x_train.shape[0], 100
    with torch.no_grad():
        for epoch in range(1, epochs + 1):
            order = torch.randperm(n_rows)
            t0 = time.perf_counter()
            bound = 0.0
            for start in range(0, n_rows, batch):
                x = torch.bernoulli(x_train[order[start:start + batch]])
                n = x.shape[0]
                # wake
                h = [x]
                logq = torch.zeros(n)
                for l in range(2):
                    logits = torch.addmm(c[l], h[l], R[l].t())
                    s = torch.bernoulli(torch.sigmoid(logits))
                    logq += log_bernoulli(s, logits)
                    h.append(s)
                logp = log_bernoulli(h[2], a.expand(n, -1))
                a.grad.copy_(-(h[2] - torch.sigmoid(a)).mean(0))
                for l in range(2):
                    logits = torch.addmm(b[l], h[l + 1], G[l].t())
                    logp += log_bernoulli(h[l], logits)
                    d = (h[l] - torch.sigmoid(logits)) / n
                    torch.mm(d.t(), h[l + 1], out=G[l].grad)
                    G[l].grad.neg_()
                    b[l].grad.copy_(-d.sum(0))
                bound += (logp - logq).sum().item()
                opt_g.step()
                # sleep
                d_h = [None, None, torch.bernoulli(torch.sigmoid(a).expand(n, -1))]
                for l in (1, 0):
                    d_h[l] = torch.bernoulli(torch.sigmoid(torch.addmm(b[l], d_h[l + 1], G[l].t())))
                for l in range(2):
                    q = torch.sigmoid(torch.addmm(c[l], d_h[l], R[l].t()))
                    d = (d_h[l + 1] - q) / n
                    torch.mm(d.t(), d_h[l], out=R[l].grad)
                    R[l].grad.neg_()
                    c[l].grad.copy_(-d.sum(0))
                opt_r.step()
            sec = time.perf_counter() - t0
            print(json.dumps({"epoch": epoch, "threads": threads, "samples_per_s": n_rows / sec, "epoch_s": sec,
                              "train_bound": bound / n_rows}), flush=True)
    print(json.dumps({"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
                      "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else "?"}))


if __name__ == "__main__":
    main()
