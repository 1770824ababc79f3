"""Element-wise ops, reductions and shape functions.

Every function takes tensors, NumPy arrays or Python scalars and follows
NumPy's broadcasting and NumPy 2's type promotion (Python scalars are weak,
NEP 50). The math is C++ (csrc/kernels); these functions only name it.
Gradients arrive with the autograd (each op's backward will sit beside it).
"""

from . import _core

__all__ = [
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "negative", "abs", "exp", "log", "sqrt", "square", "tanh", "sigmoid", "relu",
    "where", "clip", "sum", "mean", "max", "min", "argmax", "argmin",
    "reshape", "transpose", "expand_dims", "squeeze", "broadcast_to",
    "matmul", "dot", "tensordot",
]


def _binary(name, doc):
    core = getattr(_core, name)

    def fn(a, b, out=None):
        return core(a, b, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{doc}, element-wise with broadcasting. `out`: a tensor of the broadcast shape to write into."
    return fn


def _unary(name, doc):
    core = getattr(_core, name)

    def fn(x, out=None):
        return core(x, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{doc}, element-wise. `out`: a tensor of x's shape to write into."
    return fn


add = _binary("add", "a + b")
subtract = _binary("subtract", "a - b")
multiply = _binary("multiply", "a * b")
divide = _binary("divide", "a / b (true division: integers give float64)")
power = _binary("power", "a ** b")
maximum = _binary("maximum", "The larger of a and b (NaN if either is NaN)")
minimum = _binary("minimum", "The smaller of a and b (NaN if either is NaN)")
equal = _binary("equal", "a == b")
not_equal = _binary("not_equal", "a != b")
greater = _binary("greater", "a > b")
greater_equal = _binary("greater_equal", "a >= b")
less = _binary("less", "a < b")
less_equal = _binary("less_equal", "a <= b")

negative = _unary("negative", "-x")
abs = _unary("abs", "|x|")
exp = _unary("exp", "e ** x")
log = _unary("log", "The natural logarithm of x")
sqrt = _unary("sqrt", "The square root of x")
square = _unary("square", "x * x")
tanh = _unary("tanh", "The hyperbolic tangent of x")
sigmoid = _unary("sigmoid", "1 / (1 + exp(-x))")
relu = _unary("relu", "maximum(x, 0)")


def where(condition, x, y):
    """x where condition is true, else y (broadcast together)."""
    return _core.where(condition, x, y)


def clip(x, a_min=None, a_max=None, out=None):
    """x limited to [a_min, a_max]; either bound may be None."""
    return _core.clip(x, a_min, a_max, out)


def _reduction(op, doc):
    def fn(x, axis=None, keepdims=False):
        return _core._reduce(op, x, axis, keepdims)

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc + " `axis`: None (all), an int or a tuple of ints; `keepdims` keeps reduced axes as 1."
    return fn


sum = _reduction(_core._ReduceOp.sum, "Sum of the elements (floats accumulate in float64).")
mean = _reduction(_core._ReduceOp.mean, "Arithmetic mean of the elements.")
max = _reduction(_core._ReduceOp.max, "Largest element (NaN if any is NaN).")
min = _reduction(_core._ReduceOp.min, "Smallest element (NaN if any is NaN).")
argmax = _reduction(_core._ReduceOp.argmax, "Index of the first largest element (axis: None or an int).")
argmin = _reduction(_core._ReduceOp.argmin, "Index of the first smallest element (axis: None or an int).")


def _as_tensor(x):
    from .tensor import Tensor, tensor

    return x if isinstance(x, Tensor) else tensor(x)


def reshape(x, shape):
    return _as_tensor(x).reshape(shape)


def transpose(x, axes=None):
    """A view with the axes permuted (reversed when axes is None)."""
    return _as_tensor(x)._transpose(axes)


def expand_dims(x, axis):
    """A view with new size-1 axes at the positions `axis` (an int or a tuple)."""
    return _as_tensor(x)._expand_dims(axis)


def squeeze(x, axis=None):
    """A view without size-1 axes (all of them, or those in `axis`)."""
    return _as_tensor(x)._squeeze(axis)


def broadcast_to(x, shape):
    """A view of x broadcast to `shape` (stride 0 along broadcast axes)."""
    return _as_tensor(x)._broadcast_to(shape)


def matmul(a, b):
    """NumPy's matmul: 1-D operands are promoted and the added axis removed; batch axes broadcast.

    Every product runs on pynn's own GEMM; transposed operands are read in place.
    """
    return _core.matmul(a, b)


def dot(a, b):
    """NumPy's dot: inner product of 1-D, matmul of 2-D, a scalar multiplies, and for N-D
    a sum product over the last axis of a and the second-to-last of b."""
    return _core.dot(a, b)


def tensordot(a, b, axes=2):
    """Sum products over the last `axes` axes of a and the first of b, or over the axes
    named by a pair of sequences ``(axes_a, axes_b)``."""
    return _core.tensordot(a, b, axes)
