r"""PyTorch <-> latent4j round trips on small models, both directions, checked to 1e-5.

PyTorch -> latent4j: trains two small PyTorch models a few Adam steps on random data (a dense VAE
with batch normalization, Bernoulli pixels; a convolutional autoencoder with Conv2d, BatchNorm2d and
ConvTranspose2d, Gaussian), saves each state_dict in the safetensors format (written here by hand,
as safetensors.torch.save_file lays it out: 8-byte little-endian header length, JSON header,
raw little-endian data; Debian has no python3-safetensors), imports it with
    ./latent4j import --weights W --spec S --out M
and compares latent4j's encode (--variance: mu and logvar) and reconstruct with PyTorch's. The dense
VAE is saved in mixed dtypes (encoder F16, heads BF16, decoder F64, batch norm F32 with its I64
num_batches_tracked), so every conversion is exercised; PyTorch's reference then runs the weights
as rounded to those dtypes.

latent4j -> PyTorch (as benchmarks/check_pytorch_load.py does for W1/W2 files): trains the same
specs with `./latent4j train --spec S` for 2 epochs, loads the model file into the PyTorch modules
with load_state_dict (strict but for batch norm's step counters, which latent4j does not keep) and
compares PyTorch's reconstruction with `./latent4j reconstruct`.

    flock /work/build.lock /usr/bin/python3 benchmarks/pytorch_roundtrip.py [--fixtures]

--fixtures also writes the dense VAE and the conv AE (state_dict, spec, rows, PyTorch's outputs)
into src/test/resources/pytorch/, for PyTorchImportTest (which checks the import without Python).
Prints one JSON line per check and exits non-zero when one is off by more than 1e-5
(|a - b| / max(1, |b|)).
"""
import json, os, struct, subprocess, sys, tempfile

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 1e-5
torch.set_num_threads(1)
torch.set_flush_denormal(True)
torch.manual_seed(7)


# ------------------------------------------------------------------ the two models and their latent4j specs

class DenseVae(nn.Module):
    """12 -> 16 relu, batch norm -> 8 tanh -> (mu, logvar) 3 -> 8 relu -> 12 logits."""
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, 8), nn.Tanh())
        self.fc_mu = nn.Linear(8, 3)
        self.fc_logvar = nn.Linear(8, 3)
        self.decoder = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 12))

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def loss(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        rec = nn.functional.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
        return (rec + kl) / x.shape[0]

    def outputs(self, x):
        mu, logvar = self.encode(x)
        return {"mu": mu, "logvar": logvar, "reconstruction": torch.sigmoid(self.decoder(mu))}


DENSE_SPEC = {
    "format": "latent4j-model", "version": 1, "input_dim": 12,
    "encoder": [{"dense": 16}, {"activation": "relu"}, {"batch_norm": 0.1, "epsilon": 1e-5}, {"dense": 8}, {"activation": "tanh"}],
    "latent": {"kind": "gaussian", "dim": 3},
    "decoder": [{"dense": 8}, {"activation": "relu"}, {"dense": 12}],
    "likelihood": {"kind": "bernoulli"},
}


class ConvAe(nn.Module):
    """1x8x8 -> conv 4 (3, 1, 1) relu, batch norm -> conv 8 (4, 2, 1) relu -> flatten -> code 4 -> 128 relu -> 8x4x4
    -> conv transpose 4 (4, 2, 1) relu -> conv 1 (3, 1, 1): Gaussian means."""
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, 1, 1), nn.ReLU(), nn.BatchNorm2d(4), nn.Conv2d(4, 8, 4, 2, 1), nn.ReLU(),
                                     nn.Flatten())
        self.latent = nn.Linear(128, 4)
        self.decoder = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Unflatten(1, (8, 4, 4)), nn.ConvTranspose2d(8, 4, 4, 2, 1),
                                     nn.ReLU(), nn.Conv2d(4, 1, 3, 1, 1))

    def loss(self, x):
        return ((self.decoder(self.latent(self.encoder(x))) - x) ** 2).sum() / x.shape[0]

    def outputs(self, x):
        code = self.latent(self.encoder(x))
        return {"code": code, "reconstruction": self.decoder(code).reshape(x.shape[0], -1)}


CONV_SPEC = {
    "format": "latent4j-model", "version": 1, "input_dim": 64, "input_shape": [1, 8, 8],
    "encoder": [{"conv2d": 4, "kernel": 3, "stride": 1, "padding": 1}, {"activation": "relu"}, {"batch_norm": 0.1, "epsilon": 1e-5},
                {"conv2d": 8, "kernel": 4, "stride": 2, "padding": 1}, {"activation": "relu"}, {"flatten": True}],
    "latent": {"kind": "deterministic", "dim": 4},
    "decoder": [{"dense": 128}, {"activation": "relu"}, {"reshape": [8, 4, 4]},
                {"conv_transpose2d": 4, "kernel": 4, "stride": 2, "padding": 1}, {"activation": "relu"},
                {"conv2d": 1, "kernel": 3, "stride": 1, "padding": 1}],
    "likelihood": {"kind": "gaussian_fixed", "variance": 1.0},
}


# ------------------------------------------------------------------ safetensors by hand

TORCH_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64}


def tensor_bytes(t, dtype):
    t = t.detach().contiguous().to(TORCH_DTYPE[dtype])
    if dtype in ("F16", "BF16"):
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype({"F32": "<f4", "F64": "<f8", "I64": "<i8"}[dtype]).tobytes()


def save_safetensors(path, state, dtype_of):
    """state: name -> tensor; dtype_of(name, tensor) -> safetensors dtype. Returns the state as read back in float32."""
    header, blobs, off, rounded = {"__metadata__": {"format": "pt"}}, [], 0, {}
    for name, t in state.items():
        dtype = dtype_of(name, t)
        b = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
        rounded[name] = t.detach().to(TORCH_DTYPE[dtype]).to(t.dtype)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return rounded


def read_safetensors_f32(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    state = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        a, b = t["data_offsets"]
        state[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t["shape"])
    return state


def mixed_dtype(name, t):
    if t.dtype == torch.int64:
        return "I64"
    if name.startswith("encoder.2."):
        return "F32"
    if name.startswith("encoder."):
        return "F16"
    if name.startswith("fc_"):
        return "BF16"
    return "F64"


# ------------------------------------------------------------------ helpers

def latent4j(*args):
    r = subprocess.run([os.path.join(ROOT, "latent4j"), *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("latent4j " + " ".join(args) + " failed: " + r.stderr.strip())
    return r.stdout


def write_csv(path, rows):
    with open(path, "w") as f:
        for r in rows.tolist():
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def read_csv(path):
    rows = []
    for line in open(path):
        try:
            rows.append([float(v) for v in line.strip().split(",")])
        except ValueError:
            continue  # a header line
    return torch.tensor(rows, dtype=torch.float64)


def worst(a, b):
    a, b = a.to(torch.float64).reshape(b.shape[0], -1), b.to(torch.float64).reshape(b.shape[0], -1)
    assert a.shape == b.shape, (a.shape, b.shape)
    return ((a - b).abs() / b.abs().clamp(min=1)).max().item()


failures = 0


def report(check, **fields):
    global failures
    ok = fields["max_rel_diff"] <= TOL
    failures += 0 if ok else 1
    print(json.dumps({"check": check, **fields, "tolerance": TOL, "ok": ok}), flush=True)


def train(model, x, steps=30):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        model.loss(x).backward()
        opt.step()
    model.eval()


# ------------------------------------------------------------------ the checks

def main():
    fixtures = "--fixtures" in sys.argv
    work = tempfile.mkdtemp(prefix="latent4j-roundtrip-")
    cases = [
        ("dense-vae", DenseVae(), DENSE_SPEC, torch.rand(64, 12), mixed_dtype),
        ("conv-ae", ConvAe(), CONV_SPEC, torch.rand(64, 1, 8, 8) * 2 - 1, lambda n, t: "I64" if t.dtype == torch.int64 else "F32"),
    ]
    for name, model, spec, data, dtype_of in cases:
        train(model, data.reshape(data.shape[0], *([1, 8, 8] if name == "conv-ae" else [12])))
        d = os.path.join(work, name)
        os.makedirs(d)
        spec_path = os.path.join(d, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f, indent=1)
        weights = os.path.join(d, "weights.safetensors")
        rounded = save_safetensors(weights, model.state_dict(), dtype_of)
        model.load_state_dict(rounded)   # the reference runs the weights as the file holds them
        x = data[:8]
        with torch.no_grad():
            ref = model.outputs(x)
        rows = x.reshape(x.shape[0], -1)
        rows_path = os.path.join(d, "rows.csv")
        write_csv(rows_path, rows)
        model_path = os.path.join(d, "model.safetensors")
        print(latent4j("import", "--weights", weights, "--spec", spec_path, "--out", model_path).strip(), file=sys.stderr)
        latent4j("encode", "--model", model_path, "--data", rows_path, "--out", os.path.join(d, "codes.csv"),
                 *(["--variance"] if "mu" in ref else []))
        latent4j("reconstruct", "--model", model_path, "--data", rows_path, "--out", os.path.join(d, "recon.csv"))
        codes, recon = read_csv(os.path.join(d, "codes.csv")), read_csv(os.path.join(d, "recon.csv"))
        dtypes = sorted({dtype_of(k, v) for k, v in model.state_dict().items()})
        if "mu" in ref:
            q = ref["mu"].shape[1]
            report(name + " pytorch->latent4j encode mu", max_rel_diff=worst(codes[:, :q], ref["mu"]), dtypes=dtypes)
            report(name + " pytorch->latent4j encode logvar", max_rel_diff=worst(codes[:, q:2 * q], ref["logvar"]), dtypes=dtypes)
        else:
            report(name + " pytorch->latent4j encode code", max_rel_diff=worst(codes, ref["code"]), dtypes=dtypes)
        report(name + " pytorch->latent4j reconstruct", max_rel_diff=worst(recon, ref["reconstruction"]), dtypes=dtypes)
        if fixtures:
            out = os.path.join(ROOT, "src", "test", "resources", "pytorch")
            os.makedirs(out, exist_ok=True)
            subprocess.run(["cp", weights, os.path.join(out, name + ".safetensors")], check=True)
            subprocess.run(["cp", spec_path, os.path.join(out, name + ".json")], check=True)
            write_csv(os.path.join(out, name + "-rows.csv"), rows)
            for k, v in ref.items():
                write_csv(os.path.join(out, name + "-" + k + ".csv"), v.reshape(v.shape[0], -1))

        # latent4j -> PyTorch: a model latent4j trained, loaded into the same modules.
        run = os.path.join(d, "trained")
        train_rows = os.path.join(d, "train.csv")
        write_csv(train_rows, data.reshape(data.shape[0], -1))
        latent4j("train", "--spec", spec_path, "--data", train_rows, "--epochs", "2", "--scale", "none", "--checkpoint-every", "0",
                 "--out", run)
        trained = os.path.join(run, "model.safetensors")
        state = read_safetensors_f32(trained)
        fresh = type(model)()
        result = fresh.load_state_dict(state, strict=False)
        unexpected = list(result.unexpected_keys)
        missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
        if unexpected or missing:
            sys.exit(f"{name}: latent4j's file does not fit the PyTorch modules: missing {missing}, unexpected {unexpected}")
        fresh.eval()
        latent4j("reconstruct", "--model", trained, "--data", rows_path, "--out", os.path.join(d, "recon-trained.csv"))
        with torch.no_grad():
            theirs = fresh.outputs(x)["reconstruction"]
        report(name + " latent4j->pytorch reconstruct", max_rel_diff=worst(read_csv(os.path.join(d, "recon-trained.csv")), theirs),
               tensors=len(state))
    print(json.dumps({"work_dir": work, "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
