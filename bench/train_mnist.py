"""Training benchmark: the chapter-2 MNIST model, one epoch, pynn against a NumPy network.

    PYNN_DATA=../shared/data python bench/train_mnist.py [--repeats 3] [--accuracy-epochs 5]
                                                         [--threads 2] [--json] [--skip-peers]

The model of "Deep Learning with Python" chapter 2: 784 -> Dense(512, relu) ->
Dense(10, softmax), sparse categorical cross-entropy, RMSprop(1e-3), batch 128,
shuffled, on the real MNIST training set (never random data: with random labels
most ReLU units die and the work changes). Sides, timed whole epochs in one run,
alternating pynn / NumPy / peers with a settle pause between them (two thread
pools on 2 cores would otherwise time each other's spinning):

- pynn: `model.fit(x, y, epochs=1, batch_size=128, verbose=0)`;
- NumPy: the same network, update rule and batches written by hand in NumPy
  ("Deep Learning from Scratch" style, float32, in place where natural);
- PyTorch and Keras on JAX when installed (optional; never needed).

Also measured in the same run: the 2048^3 float32 GEMM rate of both and the
floor it implies (FLOPs per epoch / best rate), predict / evaluate times, the
peak RSS of a pynn training process, and test accuracy after N epochs.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import pynn  # noqa: E402
from pynn import layers  # noqa: E402

BATCH = 128
HIDDEN = 512
LR, RHO, EPS = 1e-3, 0.9, 1e-7
SETTLE = 0.3


def flops_per_epoch(n):
    """Forward, weight gradients and the second layer's input gradient (the first layer's
    input gradient is never needed): 2 FLOPs per multiply-add."""
    layer_macs = 784 * HIDDEN + HIDDEN * 10
    return n * 2 * (2 * layer_macs + HIDDEN * 10)


def load():
    try:
        (x, y), (xt, yt) = pynn.datasets.mnist.load_data()
    except (FileNotFoundError, OSError, ValueError) as e:
        sys.exit(f"train_mnist: {e}")
    prep = lambda a: a.reshape(len(a), 784).astype(np.float32) / 255  # noqa: E731
    return (prep(x), y.astype(np.int64)), (prep(xt), yt.astype(np.int64))


# ---------------------------------------------------------------- the NumPy network

class NumpyMLP:
    """The chapter-2 network by hand: glorot-uniform kernels, zero biases, Keras' RMSprop
    (v = rho v + (1 - rho) g^2; w -= lr g / (sqrt(v) + eps)), stable softmax cross-entropy."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)

        def glorot(fan_in, fan_out):
            limit = np.sqrt(6 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

        self.params = [glorot(784, HIDDEN), np.zeros(HIDDEN, np.float32), glorot(HIDDEN, 10),
                       np.zeros(10, np.float32)]
        self.v = [np.zeros_like(p) for p in self.params]
        self.rng = rng

    def forward(self, x):
        w1, b1, w2, b2 = self.params
        h = x @ w1
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ w2
        z += b2
        return h, z

    def step(self, x, y):
        w1, b1, w2, b2 = self.params
        h, z = self.forward(x)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)  # softmax probabilities
        n = len(y)
        loss = -np.log(z[np.arange(n), y] + 1e-30).mean()
        z[np.arange(n), y] -= 1
        z /= n  # dL/dlogits
        grads = [None, None, h.T @ z, z.sum(axis=0)]
        dh = z @ w2.T
        dh *= h > 0
        grads[0] = x.T @ dh
        grads[1] = dh.sum(axis=0)
        for p, g, v in zip(self.params, grads, self.v):
            v *= RHO
            v += (1 - RHO) * (g * g)
            p -= LR * g / (np.sqrt(v) + EPS)
        return loss

    def epoch(self, x, y):
        order = self.rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            self.step(x[idx], y[idx])

    def accuracy(self, x, y):
        return float((self.forward(x)[1].argmax(axis=1) == y).mean())


# ---------------------------------------------------------------- pynn

def pynn_model(seed=0):
    pynn.random.seed(seed)
    model = pynn.Sequential([layers.Input((784,)), layers.Dense(HIDDEN, activation="relu"),
                             layers.Dense(10, activation="softmax")])
    model.compile(optimizer=pynn.optimizers.RMSprop(LR, rho=RHO, epsilon=EPS),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# ---------------------------------------------------------------- optional peers

def torch_side(x, y):
    """A plain PyTorch loop of the same model, or None when torch is absent."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.RMSprop(net.parameters(), lr=LR, alpha=RHO, eps=EPS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(len(xt))
        for start in range(0, len(xt), BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()

    return epoch


KERAS_CHILD = """
import os, sys, time, json
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np, keras
d = np.load(sys.argv[1])
x, y = d["x"], d["y"]
m = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                      keras.layers.Dense(10, activation="softmax")])
m.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
m.fit(x, y, batch_size=128, epochs=1, verbose=0)
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); m.fit(x, y, batch_size=128, epochs=1, verbose=0); times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def keras_jax_epochs(x, y, repeats):
    """Keras 3 on JAX in a child process (its backend choice must not leak here), or None."""
    probe = subprocess.run([sys.executable, "-c", "import keras, jax"], capture_output=True)
    if probe.returncode:
        return None
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mnist.npz")
        np.savez(path, x=x, y=y)
        out = subprocess.run([sys.executable, "-c", KERAS_CHILD, path, str(repeats)], capture_output=True, text=True)
    if out.returncode:
        return f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}"
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- measurements

def timed(fn):
    time.sleep(SETTLE)
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def gemm_rates(repeats=5):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2048, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 2048), dtype=np.float32)
    pa, pb = pynn.from_numpy(a), pynn.from_numpy(b)
    flops = 2 * 2048 ** 3
    sides = {"numpy": lambda: a @ b, "pynn": lambda: pynn.matmul(pa, pb)}
    for fn in sides.values():
        fn()
    times = {k: [] for k in sides}
    for _ in range(repeats):
        for k, fn in sides.items():
            times[k].append(timed(fn))
    return {k: flops / np.median(v) / 1e9 for k, v in times.items()}


RSS_CHILD = """
import resource, sys
sys.path.insert(0, sys.argv[1])
import train_mnist as t
(x, y), _ = t.load()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
m = t.pynn_model()
m.fit(x, y, batch_size=128, epochs=1, verbose=0)
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def pynn_rss():
    """(peak RSS after loading the data, peak RSS after one epoch) of a fresh process, in bytes."""
    out = subprocess.run([sys.executable, "-c", RSS_CHILD, os.path.dirname(os.path.abspath(__file__))],
                         capture_output=True, text=True, env=dict(os.environ))
    if out.returncode:
        return None
    before, after = map(int, out.stdout.split()[-2:])
    return before * 1024, after * 1024


def median_of(fn, repeats):
    fn()
    return float(np.median([timed_quick(fn) for _ in range(repeats)]))


def timed_quick(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--accuracy-epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    pynn.set_num_threads(args.threads)
    (x, y), (xt, yt) = load()
    n = len(x)

    rates = gemm_rates()
    floor = flops_per_epoch(n) / (max(rates.values()) * 1e9)

    model, net = pynn_model(), NumpyMLP()
    sides = {"pynn": lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0),
             "numpy": lambda: net.epoch(x, y)}
    peers = {}
    if not args.skip_peers:
        torch_epoch = torch_side(x, y)
        if torch_epoch is None:
            peers["torch"] = "not installed (pip install torch==2.13.0)"
        else:
            sides["torch"] = torch_epoch
    times = {k: [] for k in sides}
    for fn in sides.values():  # warm-up epoch (also the first of the accuracy run)
        fn()
    for _ in range(args.repeats):
        for k, fn in sides.items():
            times[k].append(timed(fn))
    medians = {k: float(np.median(v)) for k, v in times.items()}
    if not args.skip_peers:
        keras = keras_jax_epochs(x, y, args.repeats)
        if keras is None:
            peers["keras-jax"] = "not installed (pip install keras jax jaxlib)"
        elif isinstance(keras, str):
            peers["keras-jax"] = keras
        else:
            medians["keras-jax"] = float(np.median(keras))

    # inference, both sides
    small = xt[:1]
    infer = {
        "predict 10000": (median_of(lambda: model.predict(xt, batch_size=BATCH, verbose=0), 5),
                          median_of(lambda: net.forward(xt), 5)),
        "evaluate 10000": (median_of(lambda: model.evaluate(xt, yt, batch_size=BATCH, verbose=0), 5),
                           median_of(lambda: net.accuracy(xt, yt), 5)),
        "predict 1 sample": (median_of(lambda: model.predict(small, verbose=0), 50),
                             median_of(lambda: net.forward(small), 50)),
    }

    accuracy = {}
    if args.accuracy_epochs:
        m2, net2 = pynn_model(0), NumpyMLP(0)
        m2.fit(x, y, batch_size=BATCH, epochs=args.accuracy_epochs, verbose=0)
        for _ in range(args.accuracy_epochs):
            net2.epoch(x, y)
        accuracy = {"pynn": m2.evaluate(xt, yt, verbose=0)[1], "numpy": net2.accuracy(xt, yt)}

    rss = pynn_rss()
    need = x.nbytes + y.nbytes + 3 * 4 * model.count_params()  # data, weights, RMSprop's v and the gradients

    result = {
        "threads": {"pynn": pynn.get_num_threads(), "numpy": "OpenBLAS default"}, "isa": pynn.get_cpu_isa(),
        "gemm_gflops": rates, "floor_s": floor, "epoch_s": medians, "peers": peers,
        "inference_s": {k: {"pynn": p, "numpy": q} for k, (p, q) in infer.items()},
        "test_accuracy": accuracy, "accuracy_epochs": args.accuracy_epochs,
        "rss_bytes": None if rss is None else {"after_load": rss[0], "after_epoch": rss[1], "needed": need},
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"chapter-2 MNIST MLP, 1 epoch ({n} samples, batch {BATCH}), medians of {args.repeats}, alternating; "
          f"pynn {pynn.get_num_threads()} threads, NumPy OpenBLAS default threads, ISA {pynn.get_cpu_isa()}")
    print(f"{'side':<12}{'s/epoch':>9}  {'vs pynn':>10}")
    print(f"{'floor':<12}{floor:>9.3f}  {'':>10}  (2048^3 sgemm: numpy {rates['numpy']:.0f} GF/s, "
          f"pynn {rates['pynn']:.0f} GF/s; {flops_per_epoch(n) / 1e9:.1f} GFLOP per epoch)")
    for k, v in medians.items():
        rel = "1.00" if k == "pynn" else f"{v / medians['pynn']:.2f}x slower"
        print(f"{k:<12}{v:>9.3f}  {rel:>10}")
    for k, why in peers.items():
        print(f"{k:<12}{'-':>9}  {why}")
    print(f"pynn epoch / floor: {medians['pynn'] / floor:.2f}")
    print(f"\n{'inference':<18}{'pynn':>10}{'numpy':>10}{'numpy/pynn':>12}")
    for k, (p, q) in infer.items():
        unit, scale = ("us", 1e6) if "1 sample" in k else ("ms", 1e3)
        print(f"{k:<18}{p * scale:>8.1f}{unit}{q * scale:>8.1f}{unit}{q / p:>12.2f}")
    if accuracy:
        print(f"\ntest accuracy after {args.accuracy_epochs} epochs: pynn {accuracy['pynn']:.4f} (seed 0), "
              f"numpy {accuracy['numpy']:.4f}")
    if rss:
        mb = 1 / 2 ** 20
        print(f"pynn peak RSS: {rss[0] * mb:.0f} MB after loading the data, {rss[1] * mb:.0f} MB after one epoch; "
              f"data + weights + optimizer state + gradients need {need * mb:.0f} MB")


if __name__ == "__main__":
    main()
