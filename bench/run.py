"""pynn benchmark runner: pynn vs NumPy, as ratios measured in one run.

    python bench/run.py [--filter SUBSTR] [--json PATH] [--threads N] [--quick]
                        [--list] [--self-test] [--samples N] [--min-time MS]
                        [--bw GBPS] [--peak-gflops GFLOPS]

For every case of bench/cases.py: build the inputs, check that pynn's result
equals NumPy's (shape, dtype, np.allclose) so a wrong kernel cannot post a
time, calibrate an inner loop count per side so one sample takes >= --min-time,
then take --samples samples of each side, alternating numpy and pynn (and the
order within a pair) so both share the machine's noise. Times are per call,
median over samples; numpy/pynn > 1 means pynn is faster.

Floors (DESIGN.md section 5): the runner measures the machine's copy bandwidth
with NumPy at pynn's thread count (or takes --bw) and estimates the FMA peak
from the ISA and clock (or takes --peak-gflops); a case with a ``bytes`` or
``flops`` hint prints both sides' GB/s (GFLOP/s) and pynn's fraction of the floor.

--self-test stands NumPy in for pynn (ratios ~1), to check the runner itself.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import threading
import time
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES, Case  # noqa: E402

perf_counter = time.perf_counter


# --------------------------------------------------------------- pynn or stand-in
def numpy_as_pynn() -> types.ModuleType:
    """A stand-in 'pynn' made of NumPy, for --self-test."""
    m = types.ModuleType("pynn_selftest")
    m.__file__ = "<numpy stand-in>"
    m.__version__ = np.__version__
    for name in dir(np):  # plain attributes: no per-call __getattr__ cost
        if not name.startswith("_"):
            setattr(m, name, getattr(np, name))
    m.tensor = lambda a, dtype=None: np.array(a, dtype=dtype)
    m.from_numpy = np.asarray
    m.relu = lambda x: np.maximum(x, 0)
    m.sigmoid = lambda x: 1 / (1 + np.exp(-x))
    m.set_num_threads = lambda n: None
    m.get_num_threads = lambda: 1
    m.get_cpu_isa = lambda: "numpy-selftest"
    m.memory_stats = lambda: {}
    return m


def load_pynn(self_test: bool):
    if self_test:
        return numpy_as_pynn()
    try:
        import pynn
    except Exception as e:  # noqa: BLE001 - any import failure ends the run
        sys.exit(f"bench: cannot import pynn ({type(e).__name__}: {e}); try --self-test")
    return pynn


# ------------------------------------------------------------------ machine info
def cpu_info() -> dict:
    info = {"model": platform.processor() or "unknown", "vendor": "", "family": 0, "mhz": 0.0,
            "flags": []}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                key, val = key.strip(), val.strip()
                if key == "model name" and info["model"] in ("unknown", platform.processor()):
                    info["model"] = val
                elif key == "vendor_id" and not info["vendor"]:
                    info["vendor"] = val
                elif key == "cpu family" and not info["family"]:
                    info["family"] = int(val)
                elif key == "cpu MHz" and not info["mhz"]:
                    info["mhz"] = float(val)
                elif key == "flags" and not info["flags"]:
                    info["flags"] = [f for f in val.split() if f.startswith(("avx", "fma", "sse4"))]
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    info["l3_bytes"] = cache_bytes(3) or 32 << 20
    return info


def cache_bytes(level: int) -> int | None:
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for d in sorted(os.listdir(base)):
            with open(f"{base}/{d}/level") as f:
                if int(f.read()) != level:
                    continue
            with open(f"{base}/{d}/size") as f:
                s = f.read().strip()
            mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1], 1)
            return int(s.rstrip("KMG")) * mult
    except (OSError, ValueError):
        pass
    return None


def bandwidth(kind: str, nthreads: int, reps: int) -> float:
    """Best memory bandwidth in GB/s seen by NumPy on nthreads threads (each on
    its own 64 MB slice; these NumPy calls release the GIL): kind "copy" is
    np.copyto (read + write bytes), "read" is np.dot of two vectors."""
    per = 16 << 20  # float32 elements per thread: 64 MB, well past any cache
    x = np.ones(per * nthreads, np.float32)
    y = np.ones_like(x)

    def work(i):
        s = slice(i * per, (i + 1) * per)
        if kind == "copy":
            np.copyto(y[s], x[s])
        else:
            np.dot(x[s], y[s])

    best = math.inf
    for _ in range(reps):
        if nthreads == 1:
            t0 = perf_counter()
            work(0)
            dt = perf_counter() - t0
        else:
            barrier = threading.Barrier(nthreads + 1)
            ts = [threading.Thread(target=lambda i: (barrier.wait(), work(i)), args=(i,))
                  for i in range(nthreads)]
            for t in ts:
                t.start()
            barrier.wait()
            t0 = perf_counter()
            for t in ts:
                t.join()
            dt = perf_counter() - t0
        best = min(best, dt)
    return 2 * x.nbytes / best / 1e9


def peak_gflops_estimate(isa: str, cpu: dict, nthreads: int) -> float:
    """FP32 FMA peak: threads x clock x FLOPs/cycle (2 FMA pipes x lanes x 2).
    AVX-512 counts 64 FLOP/cycle on Intel and AMD Zen5+ (full 512-bit pipes),
    32 on Zen4 (double-pumped 256-bit); AVX2 counts 32. Override: --peak-gflops."""
    isa = isa.lower()
    if "avx" not in isa:  # e.g. the self-test stand-in: take the CPU's flags
        isa = "avx512" if "avx512f" in cpu["flags"] else "avx2" if "avx2" in cpu["flags"] else isa
    if "512" in isa:
        full = cpu["vendor"] == "GenuineIntel" or cpu["family"] >= 26
        per_cycle = 64 if full else 32
    elif "avx2" in isa:
        per_cycle = 32
    else:
        per_cycle = 8
    return nthreads * (cpu["mhz"] or 2000.0) / 1000 * per_cycle


def blas_threads() -> int:
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        v = os.environ.get(var, "")
        if v.isdigit():
            return int(v)
    return os.cpu_count() or 1


# ----------------------------------------------------------------------- timing
def make_loop(expr: str, env: dict, glb: dict):
    """Compile `for _ in range(n): <expr>` with env's names as fast locals
    (the timeit way), so a tiny op pays no extra Python call per iteration."""
    names = list(env)
    src = f"def _loop(_n, {', '.join(names)}):\n    for _ in range(_n):\n        {expr}\n"
    ns = dict(glb)
    exec(compile(src, f"<bench {expr}>", "exec"), ns)
    fn, args = ns["_loop"], [env[k] for k in names]

    def run(n: int) -> float:
        t0 = perf_counter()
        fn(n, *args)
        return perf_counter() - t0

    return run


def calibrate(run, min_time: float) -> int:
    """Smallest-ish inner count n with one sample >= min_time (also warms up)."""
    n = 1
    while True:
        t = run(n)
        if t >= min_time:
            return n
        grow = min_time * 1.25 / t if t > 0 else 100.0
        n = max(n * 2, int(n * min(grow, 100.0)))


def sample(run_np, run_pn, min_time: float, samples: int, interleave: bool = True):
    """Samples of both sides: alternating, or (interleave=False) one side's block
    after the other's. Cases where NumPy runs a threaded BLAS use blocks: two
    thread pools that busy-wait after each call would otherwise take turns
    starving each other on this 2-core machine, and both sides would time the
    other's idle spinning."""
    run_np(1), run_pn(1)
    n_np, n_pn = calibrate(run_np, min_time), calibrate(run_pn, min_time)
    t_np, t_pn = [], []
    sides = [(run_np, n_np, t_np), (run_pn, n_pn, t_pn)]
    gc_was = gc.isenabled()
    gc.disable()
    try:
        if interleave:
            for i in range(samples):
                for run, n, out in sides if i % 2 == 0 else sides[::-1]:
                    out.append(run(n) / n)
        else:
            for run, n, out in sides:
                # OpenBLAS's idle workers keep spinning for about 2**28 cycles
                # after a call; let the other side's pool park first.
                time.sleep(0.3)
                run(n)  # warm this side's pool up again
                for _ in range(samples):
                    out.append(run(n) / n)
    finally:
        if gc_was:
            gc.enable()
    return t_np, t_pn, n_np, n_pn


def stats(ts: list[float]) -> dict:
    q = statistics.quantiles(ts, n=4) if len(ts) >= 2 else [ts[0]] * 3
    med = statistics.median(ts)
    return {"median_s": med, "min_s": min(ts), "iqr_rel": (q[2] - q[0]) / med if med else 0.0}


# --------------------------------------------------------------------- checking
def check(c: Case, ref, got) -> str | None:
    """None when pynn's result matches NumPy's, else a short reason (tuples element-wise)."""
    if isinstance(ref, tuple):
        if not isinstance(got, tuple) or len(got) != len(ref):
            return "pynn did not return a tuple like numpy's"
        return next((bad for r, g in zip(ref, got) if (bad := check(c, r, g))), None)
    ref, got = np.asarray(ref), np.asarray(got)
    if got.shape != ref.shape:
        return f"shape {got.shape} != numpy {ref.shape}"
    if got.dtype != ref.dtype:
        return f"dtype {got.dtype} != numpy {ref.dtype}"
    if not np.allclose(got, ref, rtol=c.rtol, atol=c.atol, equal_nan=True):
        with np.errstate(all="ignore"):
            err = np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))
        return f"values differ (max abs err {err:.3g})"
    return None


# ----------------------------------------------------------------------- output
def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1e3:.3f} ms"


COLS = [("case", 13, "<"), ("shape", 23, "<"), ("numpy", 11, ">"), ("pynn", 11, ">"),
        ("numpy/pynn", 10, ">"), ("±%", 3, ">"), ("threads", 18, "<"),
        ("rate np / pynn", 22, ">"), ("floor", 5, ">")]


def fmt_row(cells) -> str:
    return " | ".join(f"{str(v):{a}{w}}" for v, (_, w, a) in zip(cells, COLS))


def print_header() -> None:
    print(fmt_row([name for name, _, _ in COLS]))
    print("-+-".join("-" * w for _, w, _ in COLS))


# ------------------------------------------------------------------------- main
def run_case(c: Case, pn, nthreads: int, floors: dict, cpu: dict, args) -> dict:
    np_thr = f"blas {blas_threads()}" if c.np_threads == "blas" else c.np_threads
    row = {"case": c.name, "shape": c.shape, "group": c.group, "bytes": c.bytes,
           "flops": c.flops, "np_threads": np_thr, "pynn_threads": nthreads}
    thr = f"np {np_thr} / pynn {nthreads}"
    missing = [r for r in c.requires if not hasattr(pn, r)]
    if missing:
        row["status"] = "skip: pynn lacks " + ", ".join(missing)
        print(fmt_row([c.name, c.shape, "-", "-", "-", "", thr, "", ""]) + " | " + row["status"])
        return row
    try:
        env_np = c.setup()
        env_pn = {k: pn.tensor(v) if isinstance(v, np.ndarray) else v for k, v in env_np.items()}
        glb_np = {"np": np, "pynn": pn, "X": np}
        glb_pn = {"np": np, "pynn": pn, "X": pn}
        ref = eval(c.np_expr, glb_np, env_np)
        ref = tuple(np.array(r) for r in ref) if isinstance(ref, tuple) else np.array(ref)
        bad = check(c, ref, eval(c.pn_expr, glb_pn, env_pn))
        if bad:
            row["status"] = "WRONG: " + bad
            print(fmt_row([c.name, c.shape, "-", "-", "-", "", thr, "", ""]) + " | " + row["status"])
            return row
        t_np, t_pn, n_np, n_pn = sample(make_loop(c.np_expr, env_np, glb_np),
                                        make_loop(c.pn_expr, env_pn, glb_pn),
                                        args.min_time, args.samples,
                                        interleave=c.np_threads != "blas")
    except (AttributeError, NotImplementedError) as e:
        if not c.requires:  # a case waiting for an op (matmul) skips until it works
            row["status"] = f"ERROR {type(e).__name__}: {e}"
        else:
            row["status"] = f"skip: {type(e).__name__}: {e}"
        print(fmt_row([c.name, c.shape, "-", "-", "-", "", thr, "", ""]) + " | "
              + row["status"][:120])
        return row
    except Exception as e:  # noqa: BLE001 - report and go on to the next case
        row["status"] = f"ERROR {type(e).__name__}: {e}"
        print(fmt_row([c.name, c.shape, "-", "-", "-", "", thr, "", ""]) + " | "
              + row["status"][:120])
        return row
    s_np, s_pn = stats(t_np), stats(t_pn)
    ratio = s_np["median_s"] / s_pn["median_s"]
    row.update(status="ok", numpy=s_np, pynn=s_pn, ratio=ratio, inner_np=n_np, inner_pn=n_pn,
               samples=len(t_np))
    rate = frac = ""
    if c.bytes or c.flops:
        work, unit, floor = (c.bytes, "GB/s", floors["bw_gbs"]) if c.bytes else \
                            (c.flops, "GFLOP/s", floors["peak_gflops"])
        r_np, r_pn = work / s_np["median_s"] / 1e9, work / s_pn["median_s"] / 1e9
        row.update(rate_unit=unit, rate_np=r_np, rate_pn=r_pn, floor_frac=r_pn / floor)
        rate = f"{r_np:.1f} / {r_pn:.1f} {unit}"
        # a working set that fits in L3 is not bound by DRAM bandwidth: mark it
        cached = bool(c.bytes) and c.bytes < cpu["l3_bytes"]
        row["cache_resident"] = cached
        frac = f"{r_pn / floor:.2f}" + ("*" if cached else "")
    noise = round(100 * max(s_np["iqr_rel"], s_pn["iqr_rel"]) / 2)
    print(fmt_row([c.name, c.shape, fmt_time(s_np["median_s"]), fmt_time(s_pn["median_s"]),
                   f"{ratio:.2f}x", noise, thr, rate, frac]), flush=True)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--filter", default="", help="run cases whose 'name shape' contains SUBSTR "
                   "(case-insensitive; several with commas)")
    p.add_argument("--json", metavar="PATH", help="write all rows and metadata as JSON")
    p.add_argument("--threads", type=int, default=2, help="pynn.set_num_threads(N) (default 2)")
    p.add_argument("--quick", action="store_true", help="7 samples of >= 1 ms (smoke run)")
    p.add_argument("--samples", type=int, help="samples per side (default 15)")
    p.add_argument("--min-time", type=float, help="ms per sample (default 2)")
    p.add_argument("--bw", type=float, help="memory bandwidth floor in GB/s (default: measured)")
    p.add_argument("--peak-gflops", type=float, help="FLOP floor in GFLOP/s (default: estimated)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--self-test", action="store_true", help="use NumPy as the 'pynn' side")
    args = p.parse_args(argv)
    args.samples = args.samples or (7 if args.quick else 15)
    args.min_time = (args.min_time or (1.0 if args.quick else 2.0)) / 1e3

    pats = [s.strip().lower() for s in args.filter.split(",") if s.strip()]
    cases = [c for c in CASES if not pats or any(s in c.label.lower() for s in pats)]
    if args.list:
        for c in cases:
            print(f"{c.group:12} {c.name:14} {c.shape}")
        return 0
    if not cases:
        print(f"bench: no case matches --filter {args.filter!r}", file=sys.stderr)
        return 2

    pn = load_pynn(args.self_test)
    pn.set_num_threads(args.threads)
    nthreads = pn.get_num_threads()
    cpu = cpu_info()
    isa = pn.get_cpu_isa()
    load0 = os.getloadavg()
    floors = {"bw_gbs": args.bw, "bw_probes_gbs": {}, "peak_gflops": args.peak_gflops,
              "bw_source": "--bw" if args.bw else "best of numpy copy/read probes",
              "peak_source": "--peak-gflops" if args.peak_gflops else "estimated from ISA x clock"}
    if not args.bw and any(c.bytes for c in cases):
        reps = 3 if args.quick else 7
        probes = floors["bw_probes_gbs"]
        for kind in ("copy", "read"):
            for n in sorted({1, max(nthreads, 1)}):
                probes[f"{kind} {n}t"] = bandwidth(kind, n, reps)
        floors["bw_gbs"] = max(probes.values())
    if not args.peak_gflops:
        floors["peak_gflops"] = peak_gflops_estimate(isa, cpu, max(nthreads, 1))

    print(f"pynn bench  {datetime.datetime.now():%Y-%m-%d %H:%M}  load avg "
          f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}  ({cpu['cores']} cpus)")
    print(f"cpu {cpu['model']} @ {cpu['mhz']:.0f} MHz | numpy {np.__version__} | "
          f"pynn {getattr(pn, '__version__', '?')} isa {isa} threads {nthreads}"
          + ("  [SELF-TEST: pynn side is NumPy]" if args.self_test else ""))
    probes = ", ".join(f"{k} {v:.1f}" for k, v in floors["bw_probes_gbs"].items())
    bw = f"{floors['bw_gbs']:.1f} GB/s" if floors["bw_gbs"] else "not measured"
    print(f"floors: bandwidth {bw} [{floors['bw_source']}"
          + (f": {probes}" if probes else "") + f"]; FP32 peak {floors['peak_gflops']:.0f} "
          f"GFLOP/s [{floors['peak_source']}]")
    print(f"median of {args.samples} samples of >= {args.min_time * 1e3:g} ms per side, "
          f"interleaved (BLAS cases: one side's block after the other's); numpy/pynn > 1 means pynn is faster; "
          f"±% = half IQR / median\n")
    print_header()

    rows = [run_case(c, pn, nthreads, floors, cpu, args) for c in cases]

    ok = [r for r in rows if r["status"] == "ok"]
    load1 = os.getloadavg()
    print()
    if ok:
        groups = {}
        for r in ok:
            groups.setdefault(r["group"], []).append(r["ratio"])
        geo = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))  # noqa: E731
        print("geomean numpy/pynn: " + ", ".join(f"{g} {geo(v):.2f}x ({len(v)})"
                                                 for g, v in groups.items())
              + f"; all {geo([r['ratio'] for r in ok]):.2f}x ({len(ok)})")
    if any(r.get("cache_resident") for r in ok):
        print("floor = pynn rate / machine floor; * = working set fits in L3, "
              "so the DRAM floor does not bind")
    bad = [r for r in rows if r["status"].startswith(("WRONG", "ERROR"))]
    skipped = [r for r in rows if r["status"].startswith("skip")]
    print(f"{len(ok)} timed, {len(bad)} wrong/error, {len(skipped)} skipped; "
          f"load avg at end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")

    if args.json:
        try:
            mem = pn.memory_stats()
        except Exception:  # noqa: BLE001
            mem = None
        meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                "numpy_version": np.__version__,
                "pynn_version": getattr(pn, "__version__", None),
                "pynn_file": getattr(pn, "__file__", None), "self_test": args.self_test,
                "pynn_isa": isa, "pynn_threads": nthreads, "cpu": cpu,
                "python": platform.python_version(), "loadavg_start": load0,
                "loadavg_end": load1, "samples": args.samples, "min_time_s": args.min_time,
                "floors": floors, "pynn_memory_stats": mem, "filter": args.filter}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
        print(f"wrote {args.json}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
