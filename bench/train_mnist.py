"""Training benchmark: the chapter-2 MNIST model, whole epochs, pynn against a NumPy network.

    PYNN_DATA=/work/shared/data python bench/train_mnist.py [--repeats 3] [--accuracy-epochs 5]
                                                            [--threads 2] [--json] [--skip-peers]

The model of "Deep Learning with Python", chapter 2: 784 -> Dense(512, relu) ->
Dense(10, softmax), sparse categorical cross-entropy, RMSprop(1e-3), batch 128,
shuffled every epoch, glorot_uniform kernels and zero biases, on the real MNIST
training set (never random data: with random labels most ReLU units die and the
work changes). Sides, each timed for whole epochs on the same data in one run,
alternating pynn, NumPy, (PyTorch), with a settle pause before every timed epoch
(two thread pools on 2 cores would otherwise time each other's spinning):

- pynn: `model.fit(x, y, batch_size=128, epochs=1, verbose=0)`;
- NumPy: the same network, batches and update rule written by hand in NumPy,
  twice: "numpy" as from-scratch code usually writes it (every expression a new
  array) and "numpy-inplace" with every buffer reused (float32 throughout);
- PyTorch and Keras 3 on JAX when installed (optional peers; Keras runs in a
  child process, an epoch per request, so that KERAS_BACKEND and JAX's threads
  stay out of this one while it still alternates with the other sides).

Also measured in the same run: the 2048^3 float32 GEMM rate of NumPy and pynn and
the floor it implies (FLOPs per epoch / the best rate), and the "work floor" of
the products pynn actually runs (its first layer skips the pixel columns that are
zero in the whole batch); predict and evaluate of the
10000 test images and predict of one image; test accuracy after N epochs of both;
that the NumPy network and pynn agree step for step from the same weights; and the
memory of a pynn training process (a child that loads the data and fits one epoch).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

import pynn  # the installed pynn (pip install .), never the source tree beside this script
from pynn import layers

N_IN, HIDDEN, N_OUT = 784, 512, 10
BATCH = 128
EVAL_BATCH = 32  # the default batch size of Keras' (and pynn's) predict and evaluate
LR, RHO, EPS = 1e-3, 0.9, 1e-7
SETTLE = 0.3  # seconds of sleep before each timed call, as in bench/run.py
GEMM_N = 2048
TARGETS = {"numpy": 2.4, "torch": 3.0, "keras-jax": 1.9}  # side / pynn, issue 6
MIB = 2.0 ** 20


def flops_per_epoch(n):
    """FLOPs of the matrix products of one epoch over n samples, 2 per multiply-add.

    The forward pass, both weight gradients, and the input gradient of the second
    layer (the first layer's input gradient is never needed). Biases, ReLU, softmax
    and the optimizer are O(n * 522 + parameters) and left out: ~0.1% of the work.
    """
    macs = N_IN * HIDDEN + HIDDEN * N_OUT
    return n * 2 * (macs + macs + HIDDEN * N_OUT)


def nonzero_fraction(x, seed=0):
    """The mean fraction of the 784 pixel columns that are nonzero somewhere in a shuffled batch
    of BATCH images: pynn's first layer multiplies only those (Note [Zero input columns] in
    csrc/kernels/nn.h), so its GEMM work per epoch is this fraction of the dense count."""
    order = np.random.default_rng(seed).permutation(len(x))
    kept = [np.count_nonzero(x[order[s:s + BATCH]].any(axis=0)) for s in range(0, len(x), BATCH)]
    return float(np.mean(kept)) / N_IN


def work_flops_per_epoch(n, fraction):
    """FLOPs of the products pynn runs: the first layer's forward and weight gradient over the
    nonzero columns only, the rest as flops_per_epoch counts it."""
    first = n * 2 * N_IN * HIDDEN
    return flops_per_epoch(n) - 2 * first * (1 - fraction)


def load_mnist():
    """The real MNIST sets as ((x, y), (x_test, y_test)) with images (n, 784) float32 / 255 and
    the labels uint8, as the loader gives them; exits with the loader's message when the files
    are missing (set PYNN_DATA to the folder holding mnist/)."""
    try:
        (x, y), (x_test, y_test) = pynn.datasets.mnist.load_data()
    except OSError as e:  # pynn.datasets' DatasetError is an OSError
        sys.exit(f"train_mnist: {e}")
    return (_to_float(x), y), (_to_float(x_test), y_test)


def _to_float(images):
    """(n, 28, 28) uint8 -> (n, 784) float32 in [0, 1]; divides in place, so one float copy."""
    out = images.reshape(len(images), N_IN).astype(np.float32)
    out /= 255
    return out


# ---------------------------------------------------------------- the NumPy network

class NumpyMLP:
    """The chapter-2 network written by hand in NumPy, float32 throughout.

    Kernels are glorot_uniform (U(-l, l) with l = sqrt(6 / (fan_in + fan_out))),
    biases zero. The loss is the mean sparse categorical cross-entropy, computed
    from the logits after subtracting each row's maximum (log-sum-exp: never the log
    of a probability rounded to zero), and its gradient with respect to the logits
    is (softmax - onehot) / batch. RMSprop follows Keras 3 (and pynn):
    v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + epsilon). Gradient, velocity
    and scratch buffers are allocated once; the update runs in place.

    The seed drives NumPy's PCG64 for the kernels (W1 then W2) and each epoch's order.
    pynn.random draws from the same generator in the same order, so NumpyMLP(s) and a
    pynn model built after pynn.random.seed(s) start alike and see the same batches.
    """

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.params = [self._glorot(N_IN, HIDDEN), np.zeros(HIDDEN, np.float32),
                       self._glorot(HIDDEN, N_OUT), np.zeros(N_OUT, np.float32)]
        self.grads = [np.empty_like(p) for p in self.params]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]

    def _glorot(self, fan_in, fan_out):
        """A (fan_in, fan_out) float32 kernel drawn from glorot_uniform."""
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return self.rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

    def set_weights(self, weights):
        """Copies [kernel1, bias1, kernel2, bias2] (e.g. a pynn model's get_weights()) into place."""
        for p, w in zip(self.params, weights):
            p[...] = w

    def logits(self, x):
        """The forward pass of a batch: (hidden ReLU activations, logits)."""
        w1, b1, w2, b2 = self.params
        h = x @ w1
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ w2
        z += b2
        return h, z

    @staticmethod
    def softmax_cross_entropy(z, y):
        """Overwrites the logits z with the softmax probabilities and returns each row's
        cross-entropy -log softmax(z)[y] = log(sum(exp(z - max))) - (z[y] - max)."""
        z -= z.max(axis=1, keepdims=True)
        picked = z[np.arange(len(y)), y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        z /= total
        return np.log(total[:, 0]) - picked

    def train_step(self, x, y):
        """One RMSprop step on the batch (x, y); returns the batch's mean loss."""
        h, z = self.logits(x)
        n = len(y)
        loss = float(self.softmax_cross_entropy(z, y).mean())
        z[np.arange(n), y] -= 1
        z /= n  # z is now dL/dlogits
        gw1, gb1, gw2, gb2 = self.grads
        np.matmul(h.T, z, out=gw2)
        z.sum(axis=0, out=gb2)
        dh = z @ self.params[2].T
        dh *= h > 0  # through the ReLU
        np.matmul(x.T, dh, out=gw1)
        dh.sum(axis=0, out=gb1)
        self._rmsprop()
        return loss

    def _rmsprop(self):
        """Keras 3's RMSprop rule on every parameter, in place (s is a scratch buffer)."""
        for p, g, v, s in zip(self.params, self.grads, self.velocity, self.scratch):
            v *= RHO
            np.multiply(g, g, out=s)
            s *= 1 - RHO
            v += s  # v = rho v + (1 - rho) g^2
            np.add(v, EPS, out=s)
            np.sqrt(s, out=s)
            np.divide(g, s, out=s)
            s *= LR
            p -= s  # w -= lr g / sqrt(v + eps)

    def epoch(self, x, y, batch_size=BATCH):
        """One pass over (x, y) in a fresh random order; returns the mean training loss."""
        order = self.rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            total += self.train_step(x[idx], y[idx]) * len(idx)
        return total / len(x)

    def predict(self, x, batch_size=EVAL_BATCH):
        """Softmax probabilities (n, 10), computed in batches like model.predict."""
        out = np.empty((len(x), N_OUT), np.float32)
        for start in range(0, len(x), batch_size):
            z = self.logits(x[start:start + batch_size])[1]
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            out[start:start + batch_size] = z
        return out

    def evaluate(self, x, y, batch_size=EVAL_BATCH):
        """[mean cross-entropy, accuracy] over (x, y), in batches like model.evaluate."""
        loss, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            yb = y[start:start + batch_size]
            z = self.logits(x[start:start + batch_size])[1]
            correct += int((z.argmax(axis=1) == yb).sum())
            loss += float(self.softmax_cross_entropy(z, yb).sum())
        return [loss / len(x), correct / len(x)]


class NumpyIdiomaticMLP(NumpyMLP):
    """The same network, weights, batches and rules written the way from-scratch NumPy code
    usually is (every expression a new array, boolean-mask ReLU backward, RMSprop as two
    expressions): the "hand-written NumPy network" of the performance target. NumpyMLP is the
    same arithmetic with every buffer reused, the fastest NumPy we know how to write."""

    def train_step(self, x, y):
        w1, b1, w2, b2 = self.params
        n = len(y)
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))
        dz = p
        dz[rows, y] -= 1
        dz /= n
        dh = dz @ w2.T
        dh[h <= 0] = 0
        grads = [x.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]
        for param, g, v in zip(self.params, grads, self.velocity):
            v[...] = RHO * v + (1 - RHO) * g ** 2
            param -= LR * g / np.sqrt(v + EPS)
        return loss


# ---------------------------------------------------------------- pynn

# The chapter-2 model and the variants issue 14 measures against it (each <= 1.15x its epoch
# when captured, Note [Captured steps]): Dropout after the hidden layer, and Dense-BatchNorm-ReLU.
VARIANTS = {
    "plain": lambda units: [layers.Dense(units, activation="relu")],
    "dropout": lambda units: [layers.Dense(units, activation="relu"), layers.Dropout(0.5)],
    "batchnorm": lambda units: [layers.Dense(units), layers.BatchNormalization(), layers.ReLU()],
}
VARIANT_TARGET = 1.15


def build_pynn_model(seed=0, variant="plain", units=HIDDEN, **compile_options):
    """The chapter-2 model in pynn (or a VARIANTS one, `units` wide), compiled as in the book,
    after pynn.random.seed(seed); compile_options: run_eagerly=True for the eager path."""
    pynn.random.seed(seed)
    model = pynn.Sequential([layers.Input((N_IN,))] + VARIANTS[variant](units) +
                            [layers.Dense(N_OUT, activation="softmax")])
    model.compile(optimizer=pynn.optimizers.RMSprop(learning_rate=LR, rho=RHO, epsilon=EPS),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_options)
    return model


class _TimedPlan:
    """Stands in for a step's plan: run() replays it (or, with replay=False, does nothing) and adds
    the call's duration to .seconds."""

    def __init__(self, plan, replay=True):
        self.plan, self.replay, self.seconds = plan, replay, 0.0

    def run(self, *args):
        t = time.perf_counter()
        if self.replay:
            self.plan.run(*args)
        self.seconds += time.perf_counter() - t

    def __getattr__(self, name):
        return getattr(self.plan, name)


def python_per_step(model, x, y, repeats=5):
    """The Python of a replayed training step, two ways, best of `repeats` epochs each:
    "python": an epoch of fit with the plan's one C++ call (gather and replay) replaced by
    nothing, per step: the Python work itself; "outside": a real epoch minus the time inside
    that C++ call, per step: the same work when every step first streams megabytes of weights
    through the caches (and this host's noise)."""
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # the first step, then the capture
    entries = [e for (mode, (rows, _), _), e in model._plans.items()
               if mode == "train" and rows == BATCH and e.plan is not None]
    if not entries:
        return None
    step_plan = entries[0].plan
    real, steps = step_plan.plan, len(x) // BATCH
    out = {"kernel_calls": len(real.ops)}
    try:
        for key, replay in (("python", False), ("outside", True)):
            best = float("inf")
            for _ in range(repeats):
                step_plan.plan = timed = _TimedPlan(real, replay)
                t = time.perf_counter()
                model.fit(x[:steps * BATCH], y[:steps * BATCH], batch_size=BATCH, epochs=1, verbose=0)
                best = min(best, (time.perf_counter() - t - timed.seconds) / steps)
            out[key] = best
    finally:
        step_plan.plan = real
    return out


def check_agreement(x, y, x_test, steps=3):
    """Starts a pynn model and both NumPy networks from the same weights, trains them on the same
    first `steps` batches (pynn through fit, no shuffling) and returns the largest difference of
    the weights, relative to each weight's largest magnitude, and of the test-set predictions."""
    model = build_pynn_model(0)
    nets = [NumpyMLP(), NumpyIdiomaticMLP()]
    for net in nets:
        net.set_weights(model.get_weights())
    n = steps * BATCH
    model.fit(x[:n], y[:n], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    for net in nets:
        for k in range(steps):
            net.train_step(x[k * BATCH:(k + 1) * BATCH], y[k * BATCH:(k + 1) * BATCH])
    weights = max(float(np.abs(a - b).max() / np.abs(a).max())
                  for net in nets for a, b in zip(model.get_weights(), net.params))
    pred = model.predict(x_test, verbose=0)
    predictions = max(float(np.abs(pred - net.predict(x_test)).max()) for net in nets)
    return {"steps": steps, "weights_max_rel_diff": weights, "predict_max_abs_diff": predictions}


# ---------------------------------------------------------------- optional peers

def torch_epoch_fn(x, y, threads=2):
    """One-epoch function of a plain PyTorch loop of the same model on `threads` threads, or
    None without torch.

    torch.optim.RMSprop adds epsilon outside the square root (Keras inside); the work
    is the same, so the timing is comparable, the numbers not bit for bit.
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(N_IN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, N_OUT))
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.RMSprop(net.parameters(), lr=LR, alpha=RHO, eps=EPS)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + cross-entropy on the logits
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def epoch():
        order = torch.randperm(len(xt))
        for start in range(0, len(xt), BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()

    return epoch


KERAS_CHILD = """
import sys, time
import numpy as np, keras
data = np.load(sys.argv[1])
x, y = data["x"], data["y"]
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up and compilation
print("ready", keras.backend.backend(), keras.__version__, flush=True)
for line in sys.stdin:  # one epoch per request, timed here
    t = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    print(time.perf_counter() - t, flush=True)
"""


class KerasJax:
    """Keras 3 on JAX in a child process (so KERAS_BACKEND and JAX's threads stay out of this
    one) that runs an epoch per request: a side like the others, alternated with them. start()
    returns None when it runs, else why not."""

    def __init__(self, x, y):
        self.x, self.y, self.proc, self.dir = x, y, None, None

    def start(self):
        env = dict(os.environ, KERAS_BACKEND="jax")
        if subprocess.run([sys.executable, "-c", "import keras, jax"], env=env, capture_output=True).returncode:
            return "not installed (pip install keras jax)"
        self.dir = tempfile.TemporaryDirectory()
        path = os.path.join(self.dir.name, "mnist.npz")
        np.savez(path, x=self.x, y=self.y)
        self.proc = subprocess.Popen([sys.executable, "-c", KERAS_CHILD, path], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            return f"failed: {line.strip() or 'no answer'}"
        return None

    def epoch(self):
        self.proc.stdin.write("epoch\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self.dir is not None:
            self.dir.cleanup()
            self.dir = None


# ---------------------------------------------------------------- measurements

def settled(fn):
    """Seconds taken by one call of fn, after a SETTLE pause that lets the other side's spinning
    threads go to sleep."""
    time.sleep(SETTLE)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gemm_rates(repeats=5):
    """Median GFLOP/s of a GEMM_N^3 float32 matmul, NumPy and pynn alternating, one warm-up each."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    pa, pb = pynn.from_numpy(a), pynn.from_numpy(b)
    sides = {"numpy": lambda: a @ b, "pynn": lambda: pynn.matmul(pa, pb)}
    times = time_alternating(sides, repeats)
    return {k: 2 * GEMM_N ** 3 / float(np.median(v)) / 1e9 for k, v in times.items()}


def time_alternating(sides, repeats, warmup=1):
    """{name: [seconds, ...]}: `warmup` untimed calls of each side, then `repeats` rounds that
    call every side once, in order, each after a settle pause."""
    for fn in sides.values():
        for _ in range(warmup):
            fn()
    times = {k: [] for k in sides}
    for _ in range(repeats):
        for k, fn in sides.items():
            times[k].append(settled(fn))
    return times


def time_calls(sides, rounds, calls):
    """{name: median seconds per call} of short calls: `rounds` alternating rounds, each side
    timed for `calls` separate calls after a settle pause (after one warm-up call each)."""
    times = {k: [] for k in sides}
    for fn in sides.values():
        fn()
    for _ in range(rounds):
        for k, fn in sides.items():
            time.sleep(SETTLE)
            for _ in range(calls):
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
    return {k: float(np.median(v)) for k, v in times.items()}


def blas_threads():
    """(text, count) for NumPy's BLAS threads: threadpoolctl's answer when it is installed, else
    OpenBLAS' default (OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else the usable CPUs)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        n = int(env) if env else len(os.sched_getaffinity(0))
        return f"OpenBLAS default ({n})", n
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return f"{pool.get('internal_api', 'BLAS')} {pool['num_threads']}", pool["num_threads"]
    return "BLAS threads unknown", None


# ---------------------------------------------------------------- memory (child process)

def _proc_status_kib(key):
    """A field of /proc/self/status in KiB (VmRSS: resident now, VmHWM: peak), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _peak_kib():
    """This process's peak RSS in KiB: VmHWM, or ru_maxrss where /proc is missing."""
    peak = _proc_status_kib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss():
    """Resets the kernel's peak-RSS mark (Linux: '5' to /proc/self/clear_refs); True if it did."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_child():
    """Runs in the child: load the training set, fit one pynn epoch, print the memory as JSON (KiB).

    after_load is the resident size before fitting; load_peak the high-water mark of the
    loading (its gzip buffers and uint8 arrays are freed by then); when the mark can be
    reset, fit_peak is the high-water mark of building and fitting alone, so the training
    overhead is fit_peak - after_load; peak is the whole child's. They come from VmHWM, not
    ru_maxrss: on Linux a child's ru_maxrss starts at its parent's peak (it survives the
    fork and exec), so here it would report this benchmark's own parent process. ru_maxrss
    at the end is kept in the output for reference.
    """
    info = {"after_import": _proc_status_kib("VmRSS")}
    train, test = load_mnist()
    del test
    x, y = train
    info["after_load"] = _proc_status_kib("VmRSS")
    info["load_peak"] = _peak_kib()
    reset = _reset_peak_rss()
    model = build_pynn_model(0)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    end_peak = _peak_kib()
    info["fit_peak"] = end_peak if reset else None
    info["peak"] = max(info["load_peak"], end_peak)
    info["ru_maxrss_end"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(info))


def pynn_memory(threads, n_train):
    """The child's figures in bytes plus what the training needs at least, or an error string."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--rss-child", "--threads", str(threads)],
                         capture_output=True, text=True)
    if out.returncode:
        lines = (out.stderr or out.stdout).strip().splitlines()
        return f"child failed: {lines[-1] if lines else out.returncode}"
    info = {k: None if v is None else v * 1024 for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    params = N_IN * HIDDEN + HIDDEN + HIDDEN * N_OUT + N_OUT
    info["needed"] = {"data": n_train * (N_IN * 4 + 1), "weights": 4 * params, "optimizer": 4 * params,
                      "gradients": 4 * params}
    return info


# ---------------------------------------------------------------- the run

def run(args):
    """All measurements of one run, as a dict (the --json output)."""
    (x, y), (x_test, y_test) = load_mnist()
    n = len(x)
    blas_text, blas_n = blas_threads()
    result = {"samples": n, "batch": BATCH, "repeats": args.repeats, "isa": pynn.get_cpu_isa(),
              "threads": {"pynn": pynn.get_num_threads(), "numpy": blas_n, "numpy_text": blas_text},
              "flops_per_epoch": flops_per_epoch(n)}

    rates = gemm_rates()
    result["gemm_gflops"] = rates
    result["floor_s"] = flops_per_epoch(n) / (max(rates.values()) * 1e9)
    result["nonzero_columns"] = nonzero_fraction(x)
    result["work_flops_per_epoch"] = work_flops_per_epoch(n, result["nonzero_columns"])
    result["work_floor_s"] = result["work_flops_per_epoch"] / (max(rates.values()) * 1e9)

    model, net, naive = build_pynn_model(0), NumpyMLP(0), NumpyIdiomaticMLP(0)
    sides = {"pynn": lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0),
             "numpy": lambda: naive.epoch(x, y),
             "numpy-inplace": lambda: net.epoch(x, y)}
    variants = {}
    for name in VARIANTS:
        for path, options in (("captured", {}), ("eager", {"run_eagerly": True})):
            if (name, path) != ("plain", "captured"):  # that is "pynn"
                m = variants[f"pynn {name} {path}"] = build_pynn_model(0, name, **options)
                sides[f"pynn {name} {path}"] = (lambda m: lambda: m.fit(x, y, batch_size=BATCH, epochs=1,
                                                                        verbose=0))(m)
    peers = {}
    if args.skip_peers:
        peers = {"torch": "skipped (--skip-peers)", "keras-jax": "skipped (--skip-peers)"}
    else:
        torch_epoch = torch_epoch_fn(x, y)
        if torch_epoch is None:
            peers["torch"] = "not installed (pip install torch==2.13.0)"
        else:
            sides["torch"] = torch_epoch
    keras = KerasJax(x, y)
    why = None if args.skip_peers else keras.start()
    if why:
        peers["keras-jax"] = why
    elif not args.skip_peers:
        sides["keras-jax"] = keras.epoch
    try:
        epoch_times = time_alternating(sides, args.repeats)
    finally:
        keras.stop()
    result["epoch_times_s"] = epoch_times
    result["epoch_s"] = {k: float(np.median(v)) for k, v in epoch_times.items()}
    result["peers"] = peers
    result["python_per_step"] = {name: python_per_step(build_pynn_model(0, name), x, y) for name in VARIANTS}

    one = x_test[:1]
    result["inference_s"] = {
        "predict 10000": time_calls({"pynn": lambda: model.predict(x_test, verbose=0),
                                     "numpy": lambda: net.predict(x_test)}, args.repeats, 1),
        "evaluate 10000": time_calls({"pynn": lambda: model.evaluate(x_test, y_test, verbose=0),
                                      "numpy": lambda: net.evaluate(x_test, y_test)}, args.repeats, 1),
        "predict 1 sample": time_calls({"pynn": lambda: model.predict(one, verbose=0),
                                        "numpy": lambda: net.predict(one)}, args.repeats, 100),
    }

    result["agreement"] = check_agreement(x, y, x_test)

    result["accuracy_epochs"] = args.accuracy_epochs
    if args.accuracy_epochs:
        m = build_pynn_model(0)
        history = m.fit(x, y, batch_size=BATCH, epochs=args.accuracy_epochs, verbose=0).history
        p_loss, p_acc = m.evaluate(x_test, y_test, verbose=0)
        numpy_net = NumpyMLP(0)
        numpy_losses = [numpy_net.epoch(x, y) for _ in range(args.accuracy_epochs)]
        q_loss, q_acc = numpy_net.evaluate(x_test, y_test)
        result["accuracy"] = {
            "pynn": {"seed": 0, "test_accuracy": float(p_acc), "test_loss": float(p_loss),
                     "train_loss": [float(v) for v in history["loss"]]},
            "numpy": {"seed": 0, "test_accuracy": q_acc, "test_loss": q_loss, "train_loss": numpy_losses},
        }

    result["memory_bytes"] = pynn_memory(args.threads, n)
    return result


def print_table(r):
    """The human-readable report of run()'s dict."""
    med, rates, floor = r["epoch_s"], r["gemm_gflops"], r["floor_s"]
    print(f"chapter-2 MNIST MLP, 1 epoch ({r['samples']} samples, batch {r['batch']}), medians of {r['repeats']}, "
          f"alternating; pynn {r['threads']['pynn']} threads, NumPy {r['threads']['numpy_text']} threads, "
          f"ISA {r['isa']}")
    print(f"{'side':<15}{'s/epoch':>8}   {'side/pynn':>9}  {'target':<8}{'min-max':>13}")
    print(f"{'floor':<15}{floor:>8.3f}   (2048^3 sgemm: numpy {rates['numpy']:.0f} GF/s, pynn {rates['pynn']:.0f} GF/s;"
          f" {r['flops_per_epoch'] / 1e9:.1f} GFLOP per epoch)")
    for k, v in med.items():
        if k.startswith("pynn "):
            continue  # the variants' own table
        times = r["epoch_times_s"][k]
        target = f">= {TARGETS[k]}" if k in TARGETS else ""
        print(f"{k:<15}{v:>8.3f}   {v / med['pynn']:>9.2f}  {target:<8}{min(times):>6.3f}-{max(times):.3f}")
    for k, why in r["peers"].items():
        print(f"{k:<15}{'-':>8}   {why}")
    print(f"{'work floor':<15}{r['work_floor_s']:>8.3f}   (pynn's first layer multiplies only the pixel columns "
          f"nonzero in the batch, {r['nonzero_columns']:.0%} of them: {r['work_flops_per_epoch'] / 1e9:.1f} GFLOP)")
    numpy_floor = r["flops_per_epoch"] / (rates["numpy"] * 1e9)
    print(f"pynn epoch / floor: {med['pynn'] / floor:.2f} (target <= 1.25), / work floor: "
          f"{med['pynn'] / r['work_floor_s']:.2f};  numpy-inplace epoch / floor at "
          f"NumPy's own GEMM rate ({numpy_floor:.3f} s): {med['numpy-inplace'] / numpy_floor:.2f}")

    print(f"\n{'the one engine (issue 14)':<26}{'s/epoch':>8}{'/ plain':>9}  {'target':<9}"
          f"{'Python/step':>12}{'outside C++':>13}{'kernel calls':>14}")
    for name in VARIANTS:
        for path in ("captured", "eager"):
            key = "pynn" if (name, path) == ("plain", "captured") else f"pynn {name} {path}"
            plain = med["pynn"] if path == "captured" else med["pynn plain eager"]
            target = f"<= {VARIANT_TARGET}" if path == "captured" and name != "plain" else ""
            py = r["python_per_step"][name] if path == "captured" else None
            extra = (f"{py['python'] * 1e6:>9.1f} us{py['outside'] * 1e6:>10.1f} us{py['kernel_calls']:>14}"
                     if py else "")
            print(f"{name + ' ' + path:<26}{med[key]:>8.3f}{med[key] / plain:>9.2f}  {target:<9}{extra}")
    print("(Python/step: an epoch with the C++ call of each step removed; outside C++: a real epoch minus the time "
          "in that call; both per step, target <= 10 us)")

    print(f"\n{'inference (batch 32)':<22}{'pynn':>10}{'numpy':>12}{'numpy/pynn':>12}  target (pynn)")
    for k, t in r["inference_s"].items():
        unit, scale, target = ("us", 1e6, "<= 100 us") if "1 sample" in k else ("ms", 1e3, "<= 100 ms")
        print(f"{k:<22}{t['pynn'] * scale:>7.1f} {unit}{t['numpy'] * scale:>9.1f} {unit}"
              f"{t['numpy'] / t['pynn']:>12.2f}  {target}")

    a = r["agreement"]
    print(f"\nsame start, same {a['steps']} batches (both NumPy networks vs pynn's fit): weights differ by at most "
          f"{a['weights_max_rel_diff']:.1e} (relative), test predictions by {a['predict_max_abs_diff']:.1e}")

    if not r["accuracy_epochs"]:
        print("accuracy run skipped (--accuracy-epochs 0)")
    else:
        print(f"after {r['accuracy_epochs']} epochs    test acc  test loss  training loss by epoch")
        for k, v in r["accuracy"].items():
            losses = " ".join(f"{t:.4f}" for t in v["train_loss"])
            print(f"{k + ' (seed 0)':<18}{v['test_accuracy']:>9.4f}{v['test_loss']:>11.4f}  {losses}")

    mem = r["memory_bytes"]
    if isinstance(mem, str):
        print(f"\npynn training process memory: {mem}")
        return
    need = mem["needed"]
    print(f"\npynn training process (child, 1 epoch): RSS {mem['after_import'] / MIB:.0f} MiB after import, "
          f"{mem['after_load'] / MIB:.0f} MiB after loading the data (before fitting)")
    if mem["fit_peak"] is not None:
        print(f"  peak while building + fitting {mem['fit_peak'] / MIB:.0f} MiB "
              f"(+{(mem['fit_peak'] - mem['after_load']) / MIB:.1f} MiB over the loaded data); "
              f"process peak {mem['peak'] / MIB:.0f} MiB (loading's peak {mem['load_peak'] / MIB:.0f} MiB)")
    else:
        print(f"  process peak {mem['peak'] / MIB:.0f} MiB; loading's peak "
              f"{mem['load_peak'] / MIB:.0f} MiB (peak mark not resettable here)")
    print(f"  needed: data {need['data'] / MIB:.1f} MiB + weights {need['weights'] / MIB:.1f} + RMSprop state "
          f"{need['optimizer'] / MIB:.1f} + gradients {need['gradients'] / MIB:.1f} = "
          f"{sum(need.values()) / MIB:.1f} MiB")
    if mem["fit_peak"] is not None:
        print(f"  peak while fitting / needed: {mem['fit_peak'] / sum(need.values()):.2f} (target <= 1.5; the "
              f"peak includes the interpreter, NumPy and pynn themselves: {mem['after_import'] / MIB:.0f} MiB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs per side (median reported)")
    ap.add_argument("--accuracy-epochs", type=int, default=5, help="epochs of the accuracy run; 0 skips it")
    ap.add_argument("--threads", type=int, default=2, help="pynn's threads")
    ap.add_argument("--json", action="store_true", help="print a JSON dict instead of the table")
    ap.add_argument("--skip-peers", action="store_true", help="no PyTorch or Keras/JAX")
    ap.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if args.accuracy_epochs < 0:
        ap.error("--accuracy-epochs must be 0 (skip) or more")
    pynn.set_num_threads(args.threads)
    if args.rss_child:
        rss_child()
        return
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
