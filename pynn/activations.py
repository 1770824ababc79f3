"""Activation functions by name, as Keras resolves them (``Dense(64, activation="relu")``).

Keras 3's names, arguments and formulas. The element-wise ones are entries of one
C++ registry (Note [Activation registry] in csrc/kernels/kernel_table.h): a
forward and a derivative functor each, the same loops whether called here, by
``layers.Activation`` or fused into the dense kernel's epilogue by
``Dense(activation=...)`` (the function's ``_fused`` attribute names its entry and
default scalars). glu, softmax, log_softmax and sparsemax are built from ops.

Note [Logits behind probabilities]
softmax and sigmoid keep their input on their output as ``y._keras_logits``
(the name Keras uses for the same trick), and which of the two made it as
``y._keras_logits_of``: a sigmoid's logits must not feed a softmax
cross-entropy, nor the reverse. A cross-entropy loss given such a
probability tensor (losses.py) computes from the logits with the fused,
stable kernel instead, so a softmax output layer trained with
sparse_categorical_crossentropy costs one fused pass for loss and gradient,
and the tape never walks back through the softmax.
"""

import math

from . import _core, ops
from .autograd import _state, record

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "elu", "selu", "softplus", "softsign",
    "silu", "swish", "leaky_relu", "relu6", "exponential", "gelu", "celu", "glu", "log_sigmoid", "mish",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "soft_shrink", "hard_shrink", "tanh_shrink",
    "squareplus", "sparse_plus", "sparse_sigmoid", "sparsemax", "threshold", "get", "serialize",
]

_A = _core._Act
_INF = float("inf")


def _fuses(op, *params):
    """Marks an activation as the registry entry `op` with the scalars `params` (its
    defaults), so Dense applies it in the GEMM's epilogue."""
    def mark(fn):
        fn._fused = (op, params)
        return fn
    return mark


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); with Keras' options: x > threshold keeps x (capped to [0, max_value] when
    max_value is given), else negative_slope * (x - threshold)."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ops.relu(x)
    lo, hi = (0.0, float(max_value)) if max_value is not None else (-_INF, _INF)
    return ops.activation(_A.relu, x, (negative_slope, threshold, lo, hi))


def sigmoid(x):
    x = ops._as_tensor(x)
    y = ops.sigmoid(x)
    y._keras_logits, y._keras_logits_of = x, "sigmoid"
    return y


def tanh(x):
    return ops.tanh(x)


def _over_axes(fn, x, axis):
    """fn(x, -1) applied jointly over the axes in `axis` (an int or a tuple)."""
    x = ops._as_tensor(x)
    if isinstance(axis, int):
        return fn(x, axis)
    nd = x.ndim
    axes = sorted({int(a) % nd for a in (range(nd) if axis is None else axis)})
    if len(axes) == 1:
        return fn(x, axes[0])
    rest = [i for i in range(nd) if i not in axes]
    moved = ops.transpose(x, rest + axes)
    shape = moved.shape
    flat = ops.reshape(moved, shape[:len(rest)] + (math.prod(shape[len(rest):]),))
    y = ops.reshape(fn(flat, -1), shape)
    inverse = [0] * nd
    for i, a in enumerate(rest + axes):
        inverse[a] = i
    return ops.transpose(y, inverse)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) over `axis` (an int, a tuple of axes normalised jointly, or None: all)."""
    x = ops._as_tensor(x)
    y = _over_axes(ops.softmax, x, axis)
    if axis in (-1, x.ndim - 1):
        y._keras_logits, y._keras_logits_of = x, "softmax"
    return y


def log_softmax(x, axis=-1):
    """log(softmax(x)) over `axis` (an int, a tuple of axes, or None: all)."""
    return _over_axes(ops.log_softmax, x, axis)


def linear(x):
    return x


@_fuses(_A.elu, 1.0, 1.0)
def elu(x, alpha=1.0):
    """x where x >= 0, else alpha (exp(x) - 1)."""
    return ops.activation(_A.elu, x, (alpha, 1.0))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@_fuses(_A.elu, _SELU_ALPHA, _SELU_SCALE)
def selu(x):
    """scale * elu(x, alpha) with Klambauer et al.'s constants."""
    return ops.activation(_A.elu, x, (_SELU_ALPHA, _SELU_SCALE))


@_fuses(_A.softplus)
def softplus(x):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so it never overflows."""
    return ops.activation(_A.softplus, x)


@_fuses(_A.softsign)
def softsign(x):
    """x / (1 + |x|) (+-1 at +-inf)."""
    return ops.activation(_A.softsign, x)


@_fuses(_A.silu)
def silu(x):
    """x * sigmoid(x) (also "swish")."""
    return ops.activation(_A.silu, x)


swish = silu


@_fuses(_A.leaky_relu, 0.2)
def leaky_relu(x, negative_slope=0.2):
    """max(x, negative_slope * x) (Keras' default slope 0.2)."""
    return ops.activation(_A.leaky_relu, x, (negative_slope,))


@_fuses(_A.relu, 0.0, 0.0, 0.0, 6.0)
def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.activation(_A.relu, x, (0.0, 0.0, 0.0, 6.0))


@_fuses(_A.exponential)
def exponential(x):
    """exp(x)."""
    return ops.activation(_A.exponential, x)


@_fuses(_A.gelu)
def gelu(x, approximate=False):
    """x * Phi(x) with Phi the standard normal CDF; approximate=True: Hendrycks and Gimpel's
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return ops.activation(_A.gelu_tanh if approximate else _A.gelu, x)


@_fuses(_A.celu, 1.0)
def celu(x, alpha=1.0):
    """x where x >= 0, else alpha (exp(x / alpha) - 1)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return ops.activation(_A.celu, x, (alpha,))


def glu(x, axis=-1):
    """a * sigmoid(b), with a and b the two halves of x along `axis`."""
    x = ops._as_tensor(x)
    if x.ndim == 0:
        raise ValueError("glu: expected at least 1 dimension, got a scalar")
    axis = axis % x.ndim
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even, got shape {x.shape}")
    lead = (slice(None),) * axis
    a = ops.getitem(x, lead + (slice(0, n // 2),))
    b = ops.getitem(x, lead + (slice(n // 2, n),))
    return ops.multiply(a, ops.sigmoid(b))


@_fuses(_A.log_sigmoid)
def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    return ops.activation(_A.log_sigmoid, x)


@_fuses(_A.mish)
def mish(x):
    """x * tanh(softplus(x))."""
    return ops.activation(_A.mish, x)


@_fuses(_A.hard_sigmoid)
def hard_sigmoid(x):
    """clip(x / 6 + 1/2, 0, 1)."""
    return ops.activation(_A.hard_sigmoid, x)


@_fuses(_A.hard_silu)
def hard_silu(x):
    """x * hard_sigmoid(x) (also "hard_swish")."""
    return ops.activation(_A.hard_silu, x)


hard_swish = hard_silu


@_fuses(_A.hard_tanh)
def hard_tanh(x):
    """clip(x, -1, 1)."""
    return ops.activation(_A.hard_tanh, x)


@_fuses(_A.soft_shrink, 0.5)
def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, else 0."""
    return ops.activation(_A.soft_shrink, x, (threshold,))


@_fuses(_A.hard_shrink, 0.5)
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    return ops.activation(_A.hard_shrink, x, (threshold,))


@_fuses(_A.tanh_shrink)
def tanh_shrink(x):
    """x - tanh(x)."""
    return ops.activation(_A.tanh_shrink, x)


@_fuses(_A.squareplus, 4.0)
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2 (b >= 0)."""
    if b < 0:
        raise ValueError(f"squareplus: b must be >= 0, got {b}")
    return ops.activation(_A.squareplus, x, (b,))


@_fuses(_A.sparse_plus)
def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""
    return ops.activation(_A.sparse_plus, x)


@_fuses(_A.sparse_sigmoid)
def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1."""
    return ops.activation(_A.sparse_sigmoid, x)


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    return ops.activation(_A.threshold, x, (threshold, default_value))


def _sparsemax_rows(z):
    """sparsemax of each row of a 2-D tensor, not recorded (Martins and Astudillo, 2016):
    max(z - tau, 0) with tau chosen so each row sums to 1. Without sorting: z_j is in the
    support when 1 + c_j z_j > s_j, with c_j and s_j the count and sum of the z_i >= z_j
    (ties fall in or out together); tau = (sum of the support - 1) / its size. A row with
    an inf or NaN gives NaN."""
    top = ops.max(z, axis=1, keepdims=True)
    finite = ops.where(ops.equal(top, top), top, 0)
    z = ops.subtract(z, ops.where(ops.less(ops.abs(finite), _INF), finite, 0))  # shift-invariant
    zi, zj = ops.expand_dims(z, 1), ops.expand_dims(z, 2)   # (rows, 1, n), (rows, n, 1)
    ge = ops.greater_equal(zi, zj)                            # [r, j, i]: z_i >= z_j
    c = ops.sum(ge, axis=2).astype(z.dtype)
    s = ops.sum(ops.where(ge, zi, 0), axis=2)
    support = ops.greater(ops.add(ops.multiply(c, z), 1), s)
    k = ops.sum(support, axis=1, keepdims=True).astype(z.dtype)
    tau = ops.divide(ops.subtract(ops.sum(ops.where(support, z, 0), axis=1, keepdims=True), 1), k)
    bad = ops.multiply(ops.max(ops.abs(z), axis=1, keepdims=True), 0)  # NaN for a row with inf or NaN
    return ops.add(ops.maximum(ops.subtract(z, tau), 0), bad)


def _sparsemax_backward(g, ins, y, axis):
    # Jacobian of sparsemax: on the support S, dx = g - mean_S(g); 0 elsewhere.
    on = ops.greater(y, 0)
    k = ops.sum(on, axis=axis, keepdims=True).astype(y.dtype)
    mean = ops.divide(ops.sum(ops.where(on, g, 0), axis=axis, keepdims=True), k)
    return (ops.where(on, ops.subtract(g, mean), 0),)


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along `axis`:
    max(x - tau, 0), with many exact zeros (Martins and Astudillo, 2016). Sort-free:
    O(n^2) work per row of n, meant for class counts up to a few thousand."""
    x = ops._as_tensor(x)
    if not x.dtype.is_floating_point:
        x = x.astype("float32")
    if x.ndim == 0:
        raise ValueError("sparsemax: expected at least 1 dimension, got a scalar")
    axis = axis % x.ndim
    _state.paused += 1
    try:
        perm = [i for i in range(x.ndim) if i != axis] + [axis]
        moved = ops.transpose(x, perm)
        n = x.shape[axis]
        rows = ops.reshape(moved, (math.prod(moved.shape[:-1]), n))
        # _sparsemax_rows holds rows x n x n comparisons: blocks of rows keep that near 4M
        block = max(1, (1 << 22) // max(1, n * n))
        if rows.shape[0] <= block:
            flat = _sparsemax_rows(rows)
        else:
            flat = _core._full(rows.shape, 0, rows._dtype_code)
            for r0 in range(0, rows.shape[0], block):
                flat[r0:r0 + block] = _sparsemax_rows(rows[r0:r0 + block])
        y = ops.reshape(flat, moved.shape)
        inverse = [0] * x.ndim
        for i, a in enumerate(perm):
            inverse[a] = i
        y = ops.transpose(y, inverse).contiguous()
    finally:
        _state.paused -= 1
    if ops._recording():
        record(_sparsemax_backward, (x,), y, axis)
    return y


_BY_NAME = {fn.__name__: fn for fn in (
    relu, sigmoid, tanh, softmax, log_softmax, linear, elu, selu, softplus, softsign, silu, leaky_relu, relu6,
    exponential, gelu, celu, glu, log_sigmoid, mish, hard_sigmoid, hard_silu, hard_tanh, soft_shrink,
    hard_shrink, tanh_shrink, squareplus, sparse_plus, sparse_sigmoid, sparsemax, threshold)}
_BY_NAME["swish"] = silu
_BY_NAME["hard_swish"] = hard_silu


def get(identifier):
    """An activation function from a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"unknown activation {identifier!r}; expected one of {sorted(_BY_NAME)} or a callable")


def serialize(fn):
    """The name get() resolves back to `fn`."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    raise ValueError(f"cannot serialize the activation {fn!r}: only pynn's named activations can be saved")
