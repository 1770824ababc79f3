"""A short tour of pynn's tensors: NumPy-exact broadcasting, views, reductions, threads.

Run: python examples/demo.py
"""

import time

import numpy as np

import pynn


def main():
    print(f"pynn {pynn.__version__}: {pynn.get_num_threads()} threads, kernels for {pynn.get_cpu_isa()}")

    x = pynn.arange(12, dtype=pynn.float32).reshape(3, 4)
    print("x =", repr(x))
    print("x.T[::-1] (a view, strides", x.T[::-1].strides, "):")
    print(x.T[::-1])
    print("x + [10, 20, 30, 40] ->")
    print(x + pynn.tensor([10.0, 20.0, 30.0, 40.0]))
    print("sigmoid(x - 5).round-trip through NumPy:", np.round(np.asarray(pynn.sigmoid(x - 5)), 3)[0])
    print("sum over axis 0:", x.sum(axis=0), " argmax over axis 1:", x.argmax(axis=1))

    # Shared memory with NumPy, both ways.
    a = np.zeros((2, 3), dtype=np.float64)
    t = pynn.from_numpy(a)
    t[:, 1] = 7
    print("written through pynn, seen by NumPy:", a[0])

    # A large element-wise op, pynn (threads) next to NumPy.
    n = 10_000_000
    u = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    v = np.random.default_rng(1).standard_normal(n, dtype=np.float32)
    pu, pv, pout = pynn.from_numpy(u), pynn.from_numpy(v), pynn.empty(n)
    out = np.empty_like(u)
    for label, fn in [("numpy", lambda: np.add(u, v, out=out)), ("pynn ", lambda: pynn.add(pu, pv, out=pout))]:
        fn()
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        print(f"{label} add of 1e7 float32 into out=: median {np.median(times) * 1e3:.2f} ms")
    assert np.array_equal(out, pout.numpy())


if __name__ == "__main__":
    main()
