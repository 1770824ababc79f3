"""The one benchmark case registry (see bench/run.py for the runner).

A case is a name, a shape label, a setup function returning a dict of NumPy
inputs, and one Python expression per side. The runner copies every NumPy
array in the setup dict into a pynn Tensor for the pynn side (``pynn.tensor``,
so the two sides never share memory), then times the expression with those
names bound as locals. In an expression, ``X`` is the module of the side being
run (``numpy`` or ``pynn``), so one expression such as ``X.sum(a, axis=0)``
usually serves both sides; give ``np_expr``/``pn_expr`` when they differ.

Adding a case is one call:

    case("tanh", "1e6", lambda: {"x": rand(10**6)}, "X.tanh(x)", bytes=8 * 10**6)

``bytes`` (memory traffic the op cannot avoid) or ``flops`` (arithmetic it
cannot avoid) is the floor hint: the runner prints GB/s or GFLOP/s for both
sides and pynn's fraction of the machine floor (DESIGN.md section 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

F32 = 4  # bytes per float32


@dataclass
class Case:
    name: str
    shape: str
    setup: Callable[[], dict]
    np_expr: str
    pn_expr: str
    group: str = "elementwise"
    bytes: int | None = None  # floor hint: bytes that must move
    flops: int | None = None  # floor hint: floating point operations
    rtol: float = 1e-5
    atol: float = 1e-6
    np_threads: str = "1"  # NumPy's thread count for this op ("blas" = BLAS pool)
    requires: tuple[str, ...] = field(default_factory=tuple)  # pynn names needed

    @property
    def label(self) -> str:
        return f"{self.name} {self.shape}"


CASES: list[Case] = []


def case(name, shape, setup, expr=None, *, np_expr=None, pn_expr=None, **kw) -> Case:
    """Register a case. ``expr`` serves both sides unless np_expr/pn_expr given."""
    c = Case(name, shape, setup, np_expr or expr, pn_expr or expr, **kw)
    if c.np_expr is None or c.pn_expr is None:
        raise ValueError(f"case {c.label}: needs expr, or both np_expr and pn_expr")
    CASES.append(c)
    return c


_rng = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return _rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- elementwise
# add: allocating form and out= form, from cache-resident to DRAM-bound.
for _n, _lbl in [(10**3, "1e3"), (10**5, "1e5"), (10**7, "1e7")]:
    case("add", _lbl, lambda n=_n: {"a": rand(n), "b": rand(n)}, "a + b", bytes=3 * F32 * _n)
    case(
        "add out=",
        _lbl,
        lambda n=_n: {"a": rand(n), "b": rand(n), "o": np.empty(n, np.float32)},
        "X.add(a, b, out=o)",
        bytes=3 * F32 * _n,
    )

# broadcast a row vector over a matrix
for _m, _n in [(4096, 4096), (128, 512)]:
    case(
        "add bcast",
        f"({_m},{_n})+({_n},)",
        lambda m=_m, n=_n: {"a": rand(m, n), "b": rand(n)},
        "a + b",
        bytes=2 * F32 * _m * _n + F32 * _n,
    )

case("mul scalar", "1e6", lambda: {"a": rand(10**6)}, "a * 1.5", bytes=2 * F32 * 10**6)

# a[::2] touches every cache line of a, so the floor counts all of a and b.
case(
    "add strided",
    "a[::2]+b[::2], 2e6",
    lambda: {"a": rand(2 * 10**6), "b": rand(2 * 10**6)},
    "a[::2] + b[::2]",
    bytes=2 * F32 * 2 * 10**6 + F32 * 10**6,
)

# ----------------------------------------------------------------- unary math
_x1e6 = lambda: {"x": rand(10**6)}  # noqa: E731
case("relu", "1e6", _x1e6, np_expr="np.maximum(x, 0)", pn_expr="pynn.relu(x)", bytes=2 * F32 * 10**6)
case("exp", "1e6", _x1e6, "X.exp(x)", bytes=2 * F32 * 10**6, rtol=1e-5)
case(
    "sigmoid",
    "1e6",
    _x1e6,
    np_expr="1 / (1 + np.exp(-x))",
    pn_expr="pynn.sigmoid(x)",
    bytes=2 * F32 * 10**6,
)

# Registry activations (Note [Activation registry]): libm's expm1 / log1p / erfc
# are calls, so these show what the functors cost beyond the vectorised exp.
_act = dict(bytes=2 * F32 * 10**6, requires=("activations",))
case("silu", "1e6", _x1e6, np_expr="x / (1 + np.exp(-x))", pn_expr="pynn.activations.silu(x)", **_act)
case("elu", "1e6", _x1e6, np_expr="np.where(x >= 0, x, np.expm1(x))", pn_expr="pynn.activations.elu(x)", **_act)
case("softplus", "1e6", _x1e6, np_expr="np.logaddexp(x, np.float32(0))", pn_expr="pynn.activations.softplus(x)",
     **_act)
case("gelu tanh", "1e6", _x1e6,
     np_expr="np.float32(0.5) * x * (1 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x**3)))",
     pn_expr="pynn.activations.gelu(x, approximate=True)", **_act)

# ----------------------------------------------------------------- reductions
# float32 sums of 16M terms: NumPy is pairwise, pynn sums per-thread partials,
# so allow float32 round-off of a long sum.
_big = lambda: {"a": rand(4096, 4096)}  # noqa: E731
_red = dict(group="reduce", bytes=F32 * 4096 * 4096, rtol=1e-3, atol=1e-2)
case("sum all", "(4096,4096)", _big, "X.sum(a)", **_red)
case("sum axis0", "(4096,4096)", _big, "X.sum(a, axis=0)", **_red)
case("sum axis1", "(4096,4096)", _big, "X.sum(a, axis=1)", **_red)
case(
    "argmax axis1",
    "(60000,10)",
    lambda: {"a": rand(60000, 10)},
    "X.argmax(a, axis=1)",
    group="reduce",
    bytes=F32 * 600000 + 8 * 60000,
)

# ------------------------------------------------------------------- overhead
# per-call cost: Python binding, checks, allocation; report in microseconds.
case("add tiny", "8", lambda: {"a": rand(8), "b": rand(8)}, "a + b", group="overhead")
case("add tiny out=", "8", lambda: {"a": rand(8), "b": rand(8), "o": np.empty(8, np.float32)},
     "X.add(a, b, out=o)", group="overhead")

# ----------------------------------------------------------------------- gemm
# Matmul cases (group "gemm", FLOPs floor 2*M*N*K). NumPy's matmul runs on its
# BLAS thread pool, hence np_threads="blas" (timed in blocks, see run.sample).
_gemm = dict(group="gemm", rtol=1e-3, atol=1e-3, np_threads="blas", requires=("matmul",))
for _s in (32, 64, 256, 512, 1024, 2048):
    case("matmul", f"{_s}^3", lambda s=_s: {"a": rand(s, s), "b": rand(s, s)}, "a @ b",
         flops=2 * _s**3, **_gemm)

# The chapter-2 MNIST MLP (batch 128, 784 -> 512 -> 10): forward products and
# the backward ones, whose transposed operands are strided views, not copies.
_mlp = lambda: {"X": rand(128, 784), "W1": rand(784, 512), "h": rand(128, 512), "W2": rand(512, 10),  # noqa: E731
                "dZ": rand(128, 10), "dH": rand(128, 512)}
case("mlp X@W1", "128x784 @ 784x512", _mlp, "X @ W1", flops=2 * 128 * 784 * 512, **_gemm)
case("mlp h@W2", "128x512 @ 512x10", _mlp, "h @ W2", flops=2 * 128 * 512 * 10, **_gemm)
case("mlp X.T@dH", "(128x784)^T @ 128x512", _mlp, "X.T @ dH", flops=2 * 784 * 128 * 512, **_gemm)
case("mlp h.T@dZ", "(128x512)^T @ 128x10", _mlp, "h.T @ dZ", flops=2 * 512 * 128 * 10, **_gemm)
case("mlp dZ@W2.T", "128x10 @ (512x10)^T", _mlp, "dZ @ W2.T", flops=2 * 128 * 10 * 512, **_gemm)
case("mlp step", "5 GEMMs", _mlp, "(X @ W1, h @ W2, h.T @ dZ, dZ @ W2.T, X.T @ dH)",
     flops=2 * 128 * (784 * 512 * 2 + 512 * 10 * 3), **_gemm)

# ---------------------------------------------------------------------- optim
# One Adam step on 1e6 float32 parameters: NumPy's in-place multi-pass form
# against pynn's fused one-pass kernel (Note [Fused optimizer updates]).
_B1, _B2, _EPS, _ALPHA = 0.9, 0.999, 1e-7, 1e-3


def _np_adam(w, g, m, v):
    m += (g - m) * (1 - _B1)
    v += (g * g - v) * (1 - _B2)
    w -= _ALPHA * m / (np.sqrt(v) + _EPS)
    return w


def _adam_setup():
    return {"w": rand(10**6), "g": rand(10**6), "m": np.zeros(10**6, np.float32),
            "v": np.zeros(10**6, np.float32), "np_adam": _np_adam}


case("adam step", "1e6 f32", _adam_setup, np_expr="np_adam(w, g, m, v)",
     pn_expr="(pynn._core._optim_update(pynn._core._OptimRule.adam, [w, g, m, v], "
             f"[{_ALPHA}, {_B1}, {_B2}, {_EPS}, 0.0]), w)[1]",
     group="optim", bytes=6 * F32 * 10**6, rtol=1e-5, atol=1e-6)

# ------------------------------------------------------------------------- nn
# Softmax with cross-entropy, forward and backward, at the MNIST output layer
# (128, 10). NumPy: the "Deep Learning from Scratch" SoftmaxWithLoss layer.


def _np_softmax_with_loss(x, t):
    z = x - x.max(axis=1, keepdims=True)
    y = np.exp(z)
    y /= y.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n  # noqa: F841  (the forward the layer computes)
    dx = y.copy()
    dx[np.arange(n), t] -= 1
    return dx / n


def _pn_softmax_with_loss(x, t):
    import pynn

    with pynn.GradientTape() as tape:
        tape.watch(x)
        loss = pynn.softmax_cross_entropy(x, t)
    return tape.gradient(loss, x)


case("softmax xent f+b", "(128,10) int labels",
     lambda: {"x": rand(128, 10), "t": _rng.integers(0, 10, 128), "np_step": _np_softmax_with_loss,
              "pn_step": _pn_softmax_with_loss},
     np_expr="np_step(x, t)", pn_expr="pn_step(x, t)", group="nn", rtol=1e-5, atol=1e-6)

# Dense layers at the MNIST MLP shapes (batch 128), forward and backward.
# NumPy: x @ W + b, np.maximum, and the hand-written backward of "Deep
# Learning from Scratch" (Affine + Relu layers).


def _np_dense_fb(x, w, b, dy, relu):
    z = x @ w + b
    y = np.maximum(z, 0) if relu else z
    dz = dy * (z > 0) if relu else dy
    return (dz @ w.T, x.T @ dz, dz.sum(axis=0))


def _pn_dense_fb(x, w, b, dy, relu):
    import pynn

    with pynn.GradientTape() as tape:
        tape.watch([x, w, b])
        y = pynn.dense(x, w, b, "relu" if relu else None)
    return tuple(tape.gradient(y, [x, w, b], output_gradients=dy))


for _i, _o, _relu in [(784, 512, True), (512, 10, False)]:
    case("dense f+b", f"128x{_i} -> {_o}{' relu' if _relu else ''}",
         lambda i=_i, o=_o, relu=_relu: {"x": rand(128, i), "w": rand(i, o) * 0.05, "b": rand(o), "dy": rand(128, o),
                                         "relu": relu, "np_fb": _np_dense_fb, "pn_fb": _pn_dense_fb},
         np_expr="np_fb(x, w, b, dy, relu)", pn_expr="pn_fb(x, w, b, dy, relu)", group="nn",
         flops=3 * 2 * 128 * _i * _o, rtol=1e-3, atol=1e-3, np_threads="blas")

# Batch normalization in training mode (Note [Batch norm] in csrc/kernels/norm.h), forward and
# backward, at the MNIST MLP's hidden layer. NumPy: the BatchNormalization layer of "Deep
# Learning from Scratch" (batch mean and variance, then the textbook backward).


def _np_batch_norm_fb(x, gamma, beta, dy):
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc**2, axis=0)
    std = np.sqrt(var + 1e-3)
    xn = xc / std
    _ = gamma * xn + beta
    dbeta = dy.sum(axis=0)
    dgamma = np.sum(xn * dy, axis=0)
    dxn = gamma * dy
    dxc = dxn / std
    dstd = -np.sum((dxn * xc) / (std * std), axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / x.shape[0]) * xc * dvar
    dmu = np.sum(dxc, axis=0)
    return (dxc - dmu / x.shape[0], dgamma, dbeta)


def _pn_batch_norm_fb(x, gamma, beta, dy):
    import pynn

    with pynn.GradientTape() as tape:
        tape.watch([x, gamma, beta])
        y = pynn.ops.batch_norm(x, -1, gamma, beta, 1e-3, training=True)[0]
    return tuple(tape.gradient(y, [x, gamma, beta], output_gradients=dy))


case("batch_norm f+b", "128x512",
     lambda: {"x": rand(128, 512), "gamma": rand(512) + 1, "beta": rand(512), "dy": rand(128, 512),
              "np_fb": _np_batch_norm_fb, "pn_fb": _pn_batch_norm_fb},
     np_expr="np_fb(x, gamma, beta, dy)", pn_expr="pn_fb(x, gamma, beta, dy)", group="nn",
     bytes=5 * F32 * 128 * 512, rtol=1e-3, atol=1e-3)
