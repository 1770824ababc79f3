"""Training benchmark: Keras' simple MNIST convnet, pynn against PyTorch and Keras 3 on JAX.

    PYNN_DATA=/work/shared/data python bench/train_convnet.py [--threads 2] [--epochs 2] [--json]
                                                              [--sides pynn,torch,keras-jax]

The model of examples/mnist_convnet.py: Conv2D(32, 3x3, relu) -> MaxPool 2x2 ->
Conv2D(64, 3x3, relu) -> MaxPool 2x2 -> Flatten -> Dropout(0.5) -> Dense(10,
softmax), Adam(1e-3), categorical cross-entropy, batch 128, on the 54,000 training
images that validation_split=0.1 leaves (real MNIST). Each side runs alone in its
own process (their thread pools never meet) with the same thread count:

- pynn: `model.fit(x, y, batch_size=128, epochs=1)` per epoch;
- PyTorch: the same layers (NCHW, its oneDNN CPU kernels), the same optimizer
  and loss, a plain training loop over shuffled batches;
- Keras 3 on JAX (when installed): the same program as pynn's.

Per side: the first epoch (with pynn's capture or JAX's compile) and the best of
the later ones, predict throughput over the 10,000 test images (batch 128), and
each conv layer alone (forward, and forward + backward, batch 128). The FLOP
floor is the epoch's multiply-adds (forward, the weight gradients and the input
gradients the network needs) at pynn's own 2048^3 GEMM rate measured in the
same process. Ratios are side / pynn from this one run.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

BATCH = 128
N_TRAIN = 54000  # validation_split=0.1 of 60,000
CONVS = {"conv1": ((28, 28, 1), 32), "conv2": ((13, 13, 32), 64)}  # (input h, w, c), filters; 3x3 kernels
TARGETS = {"torch": 1.5, "keras-jax": 1.2}  # side / pynn, issue 17


def flops_per_epoch(n=N_TRAIN):
    """2 FLOPs per multiply-add: forward; dW of every layer; dx of all but the first conv."""
    conv1 = 26 * 26 * 32 * 9 * 1
    conv2 = 11 * 11 * 64 * 9 * 32
    dense = 1600 * 10
    forward = conv1 + conv2 + dense
    backward = conv1 + 2 * conv2 + 2 * dense
    return 2.0 * n * (forward + backward)


def load(data_format):
    import pynn

    (x, y), (xt, yt) = pynn.datasets.mnist.load_data()
    x = (x[:N_TRAIN].astype("float32") / 255)[..., None]
    xt = (xt.astype("float32") / 255)[..., None]
    y, yt = y[:N_TRAIN].astype("int64"), yt.astype("int64")
    if data_format == "channels_first":
        x, xt = np.ascontiguousarray(x.transpose(0, 3, 1, 2)), np.ascontiguousarray(xt.transpose(0, 3, 1, 2))
    return x, y, xt, yt


def timed(fn, repeats=5):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# ---- the sides, each run in a child process ----

def side_pynn(args):
    import pynn
    from pynn import layers
    from pynn.examples.convnet import build_model

    pynn.set_num_threads(args.threads)
    pynn.random.seed(0)
    x, y, xt, yt = load("channels_last")
    y1 = pynn.utils.to_categorical(y, 10)
    model = build_model()
    epochs = []
    for _ in range(args.epochs):
        t = time.perf_counter()
        model.fit(x, y1, batch_size=BATCH, epochs=1, verbose=0)
        epochs.append(time.perf_counter() - t)
    t = time.perf_counter()
    probs = model.predict(xt, batch_size=BATCH, verbose=0)
    predict_s = time.perf_counter() - t
    accuracy = float(np.mean(np.argmax(np.asarray(probs), 1) == yt))
    layer = {}
    rng = np.random.default_rng(0)
    for name, ((h, w, c), f) in CONVS.items():
        conv = layers.Conv2D(f, 3, activation="relu")
        xin = pynn.tensor(rng.random((BATCH, h, w, c), dtype=np.float32))
        conv.build(xin.shape)
        if name == "conv2":
            xin = pynn.Variable(xin)  # its input gradient is needed, as in the network

        def forward_backward():
            with pynn.GradientTape() as tape:
                out = conv(xin)
            return tape.gradient(out, [conv.kernel, conv.bias] + ([xin] if name == "conv2" else []))

        layer[name] = {"forward": timed(lambda: conv(xin)), "forward_backward": timed(forward_backward)}
    a = pynn.tensor(rng.random((2048, 2048), dtype=np.float32))
    b = pynn.tensor(rng.random((2048, 2048), dtype=np.float32))
    gemm = 2.0 * 2048 ** 3 / timed(lambda: pynn.matmul(a, b), 3) / 1e9
    return {"epochs": epochs, "predict_s": predict_s, "accuracy_after": accuracy, "layers": layer,
            "gemm_gflops": gemm, "version": pynn.__version__ if hasattr(pynn, "__version__") else "dev"}


def side_torch(args):
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, y, xt, yt = load("channels_first")
    x, y, xt = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(xt)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()

    epochs = []
    for _ in range(args.epochs):
        t = time.perf_counter()
        epoch()
        epochs.append(time.perf_counter() - t)
    model.eval()
    t = time.perf_counter()
    with torch.no_grad():
        out = torch.cat([torch.softmax(model(xt[i:i + BATCH]), 1) for i in range(0, len(xt), BATCH)])
    predict_s = time.perf_counter() - t
    accuracy = float((out.argmax(1).numpy() == yt).mean())
    layer = {}
    for name, ((h, w, c), f) in CONVS.items():
        conv = nn.Sequential(nn.Conv2d(c, f, 3), nn.ReLU())
        xin = torch.rand(BATCH, c, h, w, requires_grad=name == "conv2")

        def forward_backward():
            conv.zero_grad(set_to_none=True)
            conv(xin).sum().backward()

        with torch.no_grad():
            fwd = timed(lambda: conv(xin))
        layer[name] = {"forward": fwd, "forward_backward": timed(forward_backward)}
    return {"epochs": epochs, "predict_s": predict_s, "accuracy_after": accuracy, "layers": layer,
            "version": torch.__version__}


def side_keras(args):
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    keras.utils.set_random_seed(0)
    x, y, xt, yt = load("channels_last")
    y1 = keras.utils.to_categorical(y, 10)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Conv2D(64, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dropout(0.5),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    epochs = []
    for _ in range(args.epochs):
        t = time.perf_counter()
        model.fit(x, y1, batch_size=BATCH, epochs=1, verbose=0)
        epochs.append(time.perf_counter() - t)
    t = time.perf_counter()
    probs = model.predict(xt, batch_size=BATCH, verbose=0)
    predict_s = time.perf_counter() - t
    return {"epochs": epochs, "predict_s": predict_s, "accuracy_after": float(np.mean(np.argmax(probs, 1) == yt)),
            "layers": {}, "version": f"keras {keras.__version__} on jax"}


SIDES = {"pynn": side_pynn, "torch": side_torch, "keras-jax": side_keras}


def run_side(name, args):
    """One side in a fresh process; its JSON result, or why there is none."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), XLA_FLAGS=(
        f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={args.threads}"))
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--threads", str(args.threads),
           "--epochs", str(args.epochs)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"failed: {tail}"
    return json.loads(lines[-1]), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per side (the first includes warm-up)")
    parser.add_argument("--sides", default="pynn,torch,keras-jax")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(SIDES[args.child](args)), flush=True)
        return 0
    results, missing = {}, {}
    for name in args.sides.split(","):
        results[name], why = run_side(name, args)
        if why:
            missing[name] = why
            del results[name]
    if "pynn" not in results:
        print(f"pynn side {missing.get('pynn')}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"results": results, "missing": missing}, indent=1))
        return 0
    p = results["pynn"]
    best = {k: min(r["epochs"][1:] or r["epochs"]) for k, r in results.items()}
    floor = flops_per_epoch() / (p["gemm_gflops"] * 1e9)
    print(f"MNIST convnet, {N_TRAIN} images/epoch, batch {BATCH}, {args.threads} threads; each side alone in its "
          f"own process")
    print(f"| side | first epoch s | epoch s | side / pynn | target | predict 10k img/s | test acc after "
          f"{args.epochs} |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ratio = best[name] / best["pynn"]
        target = f">= {TARGETS[name]}" if name in TARGETS else ""
        print(f"| {name} | {r['epochs'][0]:.2f} | {best[name]:.2f} | {ratio:.2f} | {target} | "
              f"{10000 / r['predict_s']:.0f} | {r['accuracy_after']:.4f} |")
    for name, why in missing.items():
        print(f"| {name} | {why} | | | | | |")
    print(f"\nFLOP floor at pynn's 2048^3 GEMM rate ({p['gemm_gflops']:.0f} GFLOP/s): {floor:.2f} s/epoch; "
          f"pynn is {best['pynn'] / floor:.2f}x the floor (target <= 1.5)")
    if "torch" in results:
        print("\n| layer (batch 128, 3x3, relu) | pynn fwd ms | torch fwd ms | torch / pynn | pynn fwd+bwd ms | "
              "torch fwd+bwd ms | torch / pynn |")
        print("|---|---|---|---|---|---|---|")
        t = results["torch"]["layers"]
        for name in CONVS:
            a, b = p["layers"][name], t[name]
            print(f"| {name} | {a['forward'] * 1e3:.2f} | {b['forward'] * 1e3:.2f} | "
                  f"{b['forward'] / a['forward']:.2f} | {a['forward_backward'] * 1e3:.2f} | "
                  f"{b['forward_backward'] * 1e3:.2f} | {b['forward_backward'] / a['forward_backward']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
