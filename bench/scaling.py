"""How pynn, NumPy and PyTorch scale with threads: one run, each library in its own process.

    PYNN_DATA=../shared/data python bench/scaling.py [--threads 1,2,4,...] [--repeats 5]
                                                     [--libs pynn,numpy,torch] [--no-epoch] [--json PATH]

For every thread count (1, 2, 4, ... up to the core count, plus the core count itself),
each library is measured in a fresh process that loads only what it needs, with
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS set to that count, so no idle
thread pool of another library competes with it. A process measures:

- sgemm GFLOP/s at 256^3, 1024^3 and 2048^3 (median of --repeats timed batches);
- the five matrix products of one chapter-2 training step (batch 128, 784-512-10):
  forward x @ W1 and h @ W2, backward h^T @ g2, g2 @ W2^T and x^T @ g1, in microseconds;
- one epoch of the chapter-2 model (60,000 MNIST images, batch 128, RMSprop):
  pynn's `fit`, the in-place NumPy network of bench/train_mnist.py, PyTorch's eager loop
  (median of --repeats epochs after a warm-up epoch; needs the MNIST files, see README).

The header names the CPU (lscpu's model name), its physical cores and the FP32 FMA peak
per thread. The tables print one row per thread count and one column per library.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GEMM_SIZES = (256, 1024, 2048)
# (name, A shape, B shape, transpose A): one training step of the chapter-2 MLP.
MLP_SHAPES = (("x@W1", (128, 784), (784, 512), False), ("h@W2", (128, 512), (512, 10), False),
              ("hT@g2", (128, 512), (128, 10), True), ("g2@W2T", (128, 10), (10, 512), False),
              ("xT@g1", (128, 784), (128, 512), True))


# ------------------------------------------------------------------ the worker side
def _median_time(fn, repeats, min_time=0.05):
    """Median seconds per call over `repeats` batches, each long enough to time (one warm-up)."""
    fn()
    calls, start = 1, time.perf_counter()
    fn()
    while time.perf_counter() - start < min_time and calls < 1 << 16:
        calls *= 2
        start = time.perf_counter()
        for _ in range(calls):
            fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return float(np.median(samples))


def _library(name, threads):
    """(matmul, convert) for the library measured in this process."""
    if name == "pynn":
        import pynn

        pynn.set_num_threads(threads)
        return pynn.matmul, pynn.from_numpy
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
        return torch.matmul, torch.from_numpy
    return np.matmul, lambda a: a


def _epoch_fn(name, threads):
    """One-epoch function of the chapter-2 model in this library (train_mnist.py's)."""
    sys.path.insert(0, HERE)
    import train_mnist as tm  # imports pynn for its data loader; pynn stays idle in other workers

    (x, y), _ = tm.load_mnist()
    if name == "pynn":
        model = tm.build_pynn_model(0)
        return lambda: model.fit(x, y, batch_size=tm.BATCH, epochs=1, verbose=0)
    if name == "torch":
        return tm.torch_epoch_fn(x, y, threads)
    net = tm.NumpyMLP(0)
    return lambda: net.epoch(x, y)


def worker(lib, threads, repeats, epoch):
    """All measurements of one library at one thread count, as a dict."""
    matmul, convert = _library(lib, threads)
    rng = np.random.default_rng(0)
    out = {"lib": lib, "threads": threads, "gemm_gflops": {}, "mlp_us": {}}
    for n in GEMM_SIZES:
        a, b = (convert(rng.standard_normal((n, n), dtype=np.float32)) for _ in range(2))
        out["gemm_gflops"][str(n)] = 2 * n ** 3 / _median_time(lambda: matmul(a, b), repeats) / 1e9
    for name, sa, sb, trans_a in MLP_SHAPES:
        a, b = convert(rng.standard_normal(sa, dtype=np.float32)), convert(rng.standard_normal(sb, dtype=np.float32))
        a = a.T if trans_a else a
        out["mlp_us"][name] = _median_time(lambda: matmul(a, b), repeats) * 1e6
    if epoch:
        fn = _epoch_fn(lib, threads)
        fn()  # warm-up: first-touch, caches, thread pools
        out["epoch_s"] = float(np.median([_timed(fn) for _ in range(repeats)]))
    return out


def _timed(fn):
    time.sleep(0.2)  # let the machine settle between epochs
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ------------------------------------------------------------------ the parent side
def cpu_header():
    """Model name, physical cores and FP32 FMA peak per thread (run.py's estimate)."""
    sys.path.insert(0, HERE)
    from run import cpu_info, peak_gflops_estimate

    info = cpu_info()
    model = info["model"]
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    isa = "avx512" if "avx512f" in info["flags"] else "avx2" if "avx2" in info["flags"] else "generic"
    return {"model": model, "logical_cpus": os.cpu_count(), "physical_cores": physical_cores(),
            "isa": isa, "fma_peak_gflops_per_thread": peak_gflops_estimate(isa, info, 1)}


def physical_cores():
    """Distinct (package, core) pairs in sysfs; the logical CPU count when sysfs says nothing."""
    seen = set()
    base = "/sys/devices/system/cpu"
    for d in os.listdir(base):
        if d.startswith("cpu") and d[3:].isdigit():
            try:
                with open(f"{base}/{d}/topology/core_id") as f:
                    core = f.read().strip()
                with open(f"{base}/{d}/topology/physical_package_id") as f:
                    seen.add((f.read().strip(), core))
            except OSError:
                pass
    return len(seen) or os.cpu_count() or 1


def thread_counts(cores):
    counts, t = [], 1
    while t < cores:
        counts.append(t)
        t *= 2
    return counts + [cores]


def measure(lib, threads, args):
    """Run one worker process; its dict, or {"error": ...}."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, "--threads", str(threads),
           "--repeats", str(args.repeats)] + (["--no-epoch"] if args.no_epoch else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"lib": lib, "threads": threads, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available(lib):
    if lib in ("numpy", "pynn"):
        return True
    try:
        __import__(lib)
        return True
    except ImportError:
        return False


def print_tables(header, results, libs, counts):
    print(f"# {header['model']}: {header['physical_cores']} physical cores, {header['logical_cpus']} logical CPUs, "
          f"{header['isa']}, FMA peak ~{header['fma_peak_gflops_per_thread']:.0f} GFLOP/s per thread (fp32)")
    by = {(r["lib"], r["threads"]): r for r in results}

    def table(title, cell):
        print(f"\n{title}")
        print("threads " + "".join(f"{lib:>12}" for lib in libs))
        for t in counts:
            cells = []
            for lib in libs:
                r = by.get((lib, t))
                cells.append("-" if r is None else r["error"][:11] if "error" in r else cell(r))
            print(f"{t:>7} " + "".join(f"{c:>12}" for c in cells))

    if any("epoch_s" in r for r in results):
        table("chapter-2 epoch, s (fit, 60000 images, batch 128)", lambda r: f"{r['epoch_s']:.3f}")
    for n in GEMM_SIZES:
        table(f"sgemm {n}^3, GFLOP/s", lambda r, n=n: f"{r['gemm_gflops'][str(n)]:.0f}")
    for name, sa, sb, trans_a in MLP_SHAPES:
        m, k = (sa[1], sa[0]) if trans_a else sa
        table(f"MLP step product {name}: ({m}x{k}) @ ({sb[0]}x{sb[1]}), us",
              lambda r, name=name: f"{r['mlp_us'][name]:.0f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", help="comma-separated thread counts (default 1, 2, 4, ... cores)")
    p.add_argument("--libs", default="pynn,numpy,torch")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-epoch", action="store_true", help="GEMMs only (no MNIST files needed)")
    p.add_argument("--json", help="also write every measurement to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, int(args.threads), args.repeats, not args.no_epoch)))
        return 0
    header = cpu_header()
    counts = ([int(t) for t in args.threads.split(",")] if args.threads
              else thread_counts(header["physical_cores"]))
    libs = [lib for lib in args.libs.split(",") if available(lib)]
    results = []
    for t in counts:
        for lib in libs:
            results.append(measure(lib, t, args))
            print(f"  measured {lib} on {t} threads", file=sys.stderr, flush=True)
    print_tables(header, results, libs, counts)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": header, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
