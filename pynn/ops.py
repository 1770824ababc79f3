"""Element-wise ops, reductions, shape functions and products, each with its gradient.

Every function takes tensors, NumPy arrays or Python scalars and follows
NumPy's broadcasting and NumPy 2's type promotion (Python scalars are weak,
NEP 50). The math is C++ (csrc/kernels); these functions name it and, while a
GradientTape records (Note [Tape recording] in autograd.py), record a node
whose backward sits right beside the forward. A backward gets the output's
gradient g, the op's inputs, its output and its attributes, and returns one
gradient per input (None where there is none). Gradients of broadcast inputs
are summed back to the input's shape by the tape, once for all ops; with out=
an op writes in place and is not recorded.
"""

import builtins
import operator

from . import _core, _spatial
from .autograd import _state, record

__all__ = [
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "negative", "abs", "exp", "log", "sqrt", "square", "tanh", "sigmoid", "relu",
    "where", "clip", "sum", "mean", "max", "min", "argmax", "argmin",
    "reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "sum_to", "getitem",
    "matmul", "dot", "tensordot", "softmax", "log_softmax", "softmax_cross_entropy",
    "sigmoid_binary_cross_entropy", "dense", "activation", "dropout", "batch_norm", "pad",
    "conv", "depthwise_conv", "separable_conv", "conv_transpose", "conv1d", "conv2d", "depthwise_conv2d",
    "separable_conv2d", "conv1d_transpose", "conv2d_transpose",
    "max_pool", "average_pool", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
]

Tensor = _core.Tensor


def _recording():
    return _state.tapes and not _state.paused


def _is_tensor(x):
    return isinstance(x, Tensor)


# ---------------------------------------------------------------- element-wise

def _binary(name, doc, backward=None):
    core = getattr(_core, name)
    if backward is None:  # comparisons: no gradient flows through them
        def fn(a, b, out=None):
            return core(a, b, out)
    else:
        def fn(a, b, out=None):
            y = core(a, b, out)
            if out is None and _recording():
                record(backward, (a, b), y)
            return y
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{doc}, element-wise with broadcasting. `out`: a tensor of the broadcast shape to write into."
    return fn


def _unary(name, doc, backward):
    core = getattr(_core, name)

    def fn(x, out=None):
        y = core(x, out)
        if out is None and _recording():
            record(backward, (x,), y)
        return y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{doc}, element-wise. `out`: a tensor of x's shape to write into."
    return fn


def _tie_split(g, a, b):
    """The gradient share of a in maximum(a, b): all of g where a wins, half on ties."""
    return where(greater(a, b), g, where(equal(a, b), multiply(g, 0.5), 0))


def _power_backward(g, ins, y, _):
    a, b = ins
    ga = multiply(g, multiply(b, power(a, subtract(b, 1)))) if _is_tensor(a) else None
    gb = multiply(g, multiply(y, where(greater(a, 0), log(a), 0))) if _is_tensor(b) else None
    return ga, gb


add = _binary("add", "a + b", lambda g, ins, y, _: (g, g))
subtract = _binary("subtract", "a - b", lambda g, ins, y, _: (g, negative(g)))
multiply = _binary("multiply", "a * b", lambda g, ins, y, _: (multiply(g, ins[1]), multiply(g, ins[0])))
divide = _binary("divide", "a / b (true division: integers give float64)",
                 lambda g, ins, y, _: (divide(g, ins[1]), negative(multiply(g, divide(y, ins[1])))))
power = _binary("power", "a ** b", _power_backward)
maximum = _binary("maximum", "The larger of a and b (NaN if either is NaN; a tie splits the gradient)",
                  lambda g, ins, y, _: (_tie_split(g, ins[0], ins[1]), _tie_split(g, ins[1], ins[0])))
minimum = _binary("minimum", "The smaller of a and b (NaN if either is NaN; a tie splits the gradient)",
                  lambda g, ins, y, _: (_tie_split(g, ins[1], ins[0]), _tie_split(g, ins[0], ins[1])))
equal = _binary("equal", "a == b")
not_equal = _binary("not_equal", "a != b")
greater = _binary("greater", "a > b")
greater_equal = _binary("greater_equal", "a >= b")
less = _binary("less", "a < b")
less_equal = _binary("less_equal", "a <= b")

negative = _unary("negative", "-x", lambda g, ins, y, _: (negative(g),))
abs = _unary("abs", "|x| (gradient: sign(x), 0 at 0)",
             lambda g, ins, y, _: (where(greater(ins[0], 0), g, where(less(ins[0], 0), negative(g), 0)),))
exp = _unary("exp", "e ** x", lambda g, ins, y, _: (multiply(g, y),))
log = _unary("log", "The natural logarithm of x", lambda g, ins, y, _: (divide(g, ins[0]),))
sqrt = _unary("sqrt", "The square root of x", lambda g, ins, y, _: (divide(g, multiply(y, 2)),))
square = _unary("square", "x * x", lambda g, ins, y, _: (multiply(g, multiply(ins[0], 2)),))
def _fused_derivative(core, g, y):
    """g * f'(x) from y = f(x) in one pass (the registry's relu_grad, sigmoid_grad,
    tanh_grad: the same arithmetic as the recorded form), or None where that form is
    needed: a tape recording this backward, or operands that are not one float dtype."""
    if _recording() or not (_is_tensor(g) and g.dtype == y.dtype and y.dtype.is_floating_point):
        return None
    return core(g, y, None)


def _tanh_backward(g, ins, y, _):
    d = _fused_derivative(_core.tanh_grad, g, y)
    return (multiply(g, subtract(1, square(y))) if d is None else d,)


def _sigmoid_backward(g, ins, y, _):
    d = _fused_derivative(_core.sigmoid_grad, g, y)
    return (multiply(g, multiply(y, subtract(1, y))) if d is None else d,)


def _relu_backward(g, ins, y, _):
    d = _fused_derivative(_core.relu_grad, g, y)  # y > 0 exactly where x > 0 (NaN: neither)
    return (where(greater(ins[0], 0), g, 0) if d is None else d,)


tanh = _unary("tanh", "The hyperbolic tangent of x", _tanh_backward)
sigmoid = _unary("sigmoid", "1 / (1 + exp(-x))", _sigmoid_backward)
relu = _unary("relu", "maximum(x, 0) (gradient 0 at 0)", _relu_backward)


def _act_backward(g, ins, y, saved):
    op, h = saved
    return (_act_derivative(op, g, ins[0], y, h, 1),)


def _act_derivative(op, g, x, y, h, order):
    """g * act^(order)(x) (y = act(x), a constant of the node). Recorded when a tape
    records a backward, so nested tapes see act'' through x and act' through g."""
    r = _core._activation_grad(op, g, x, y, h, order)
    if _recording():
        def backward(gg, ins, out, _):
            g_, x_ = ins
            if order >= 2:
                raise NotImplementedError(f"{op.name}: derivatives of order 3 and above are not implemented")
            return (_act_derivative(op, gg, x_, y, h, order),
                    _act_derivative(op, multiply(gg, g_), x_, y, h, order + 1))
        record(backward, (_as_tensor(g), x), r)
    return r


def activation(op, x, params=()):
    """A registry activation (Note [Activation registry] in csrc/kernels/kernel_table.h),
    element-wise: `op` a _core._Act, `params` its scalars. The backward is one pass of
    the activation's derivative functor: dx = g * act'(x)."""
    x = _as_tensor(x)
    h = [float(p) for p in params]
    y = _core._activation(op, x, h)
    if _recording():
        record(_act_backward, (x,), y, (op, h))
    return y


def where(condition, x, y):
    """x where condition is true, else y (broadcast together)."""
    r = _core.where(condition, x, y)
    if _recording():
        record(lambda g, ins, out, _: (None, where(ins[0], g, 0), where(ins[0], 0, g)), (condition, x, y), r)
    return r


def clip(x, a_min=None, a_max=None, out=None):
    """x limited to [a_min, a_max]; either bound may be None. The gradient flows to x
    where it is inside the bounds."""
    r = _core.clip(x, a_min, a_max, out)
    if out is None and _recording():
        def backward(g, ins, y, _):
            inside = g
            if a_min is not None:
                inside = where(less(ins[0], a_min), 0, inside)
            if a_max is not None:
                inside = where(greater(ins[0], a_max), 0, inside)
            return (inside,)
        record(backward, (x,), r)
    return r


# ---------------------------------------------------------------- reductions

def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (operator.index(axis),)
    except TypeError:  # a sequence of ints (tuple, list, 1-D integer array or tensor)
        axes = tuple(operator.index(a) for a in axis)
    return tuple(a % ndim if ndim else a for a in axes)


def _one_axis(op, axis, nd, bound=None):
    """A single int axis of a tensor of nd dimensions in [0, bound) (bound: nd unless given;
    softmax lets a 0-d tensor take axis 0 or -1): TypeError for a non-int, AxisError (naming
    op and nd) out of range."""
    if isinstance(axis, bool) or not hasattr(type(axis), "__index__"):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    axis = axis.__index__()
    bound = nd if bound is None else bound
    if not -bound <= axis < bound:
        raise _core.AxisError(f"{op}: axis {axis} is out of bounds for tensor of dimension {nd}")
    return axis % bound


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_to(g, shape, axes):
    """g (a reduction's gradient, keepdims or not) broadcast back to the input shape."""
    return broadcast_to(reshape(g, _keep_shape(shape, axes)), shape)


def _sum_backward(g, ins, y, axes):
    return (_expand_to(g, ins[0].shape, axes),)


def _mean_backward(g, ins, y, axes):
    shape = ins[0].shape
    count = 1
    for a in axes:
        count *= shape[a]
    return (_expand_to(divide(g, count), shape, axes),)


def _extreme_backward(g, ins, y, axes):
    # Ties share the gradient equally: each of k equal extremes gets g / k.
    x = ins[0]
    hit = equal(x, reshape(y, _keep_shape(x.shape, axes)))
    count = _core._reduce(_core._ReduceOp.sum, hit, axes, True).astype(y.dtype)
    return (where(hit, broadcast_to(divide(reshape(g, count.shape), count), x.shape), 0),)


def _keepdims(op, keepdims):
    """keepdims as NumPy reads it: an integer (bool included) that fits a C long."""
    if keepdims is True or keepdims is False:
        return keepdims
    try:
        k = operator.index(keepdims)
    except TypeError:
        raise TypeError(f"{op}: keepdims must be a bool or an int, got {type(keepdims).__name__}") from None
    if not -2**63 <= k < 2**63:
        raise OverflowError(f"{op}: keepdims {k} is too large (it does not fit in a C long)")
    return k != 0


def _zero_d_axis(x, axis):
    """Whether x is a 0-d tensor and axis a bare int 0 or -1 (not a tuple), which NumPy's
    sum/max/min/argmax/argmin and squeeze accept on 0-d arrays as "the only element"."""
    if not (_is_tensor(x) and x.ndim == 0) or axis is None or isinstance(axis, bool):
        return False
    if not hasattr(type(axis), "__index__") or getattr(axis, "ndim", 0) != 0:
        return False
    try:
        return operator.index(axis) in (0, -1)
    except TypeError:
        return False


def _reduction(op, doc, backward=None):
    def fn(x, axis=None, keepdims=False):
        # NumPy's ufunc reductions read keepdims as an integer; argmax/argmin as a truth value.
        kd = bool(keepdims) if op.name.startswith("arg") else _keepdims(op.name, keepdims)
        if op.name != "mean" and _zero_d_axis(x, axis):
            axis = None  # NumPy lets a bare axis 0 or -1 reduce a 0-d array (mean excepted)
        y = _core._reduce(op, x, axis, kd)
        if backward is not None and _is_tensor(x) and _recording():
            record(backward, (x,), y, _normalize_axes(axis, x.ndim))
        return y

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc + " `axis`: None (all), an int or a tuple of ints; `keepdims` keeps reduced axes as 1."
    return fn


sum = _reduction(_core._ReduceOp.sum, "Sum of the elements (floats accumulate in float64).", _sum_backward)
mean = _reduction(_core._ReduceOp.mean, "Arithmetic mean of the elements.", _mean_backward)
max = _reduction(_core._ReduceOp.max, "Largest element (NaN if any is NaN; tied maxima share the gradient).",
                 _extreme_backward)
min = _reduction(_core._ReduceOp.min, "Smallest element (NaN if any is NaN; tied minima share the gradient).",
                 _extreme_backward)
argmax = _reduction(_core._ReduceOp.argmax, "Index of the first largest element (axis: None or an int).")
argmin = _reduction(_core._ReduceOp.argmin, "Index of the first smallest element (axis: None or an int).")


# ---------------------------------------------------------------- shapes (views)

def _as_tensor(x, op="tensor"):
    """x as a tensor (no copy when it is one); `op` names the caller in conversion errors."""
    if _is_tensor(x):
        return x
    from .tensor import _tensor

    return _tensor(x, None, op)


def _view_op(name, view, backward):
    def fn(x, *args):
        x = _as_tensor(x, name)
        y = view(x, *args)
        if _recording():
            record(backward, (x,), y, args)
        return y

    fn.__name__ = fn.__qualname__ = name
    return fn


def _transpose_backward(g, ins, y, args):
    axes = args[0]
    if axes is None:
        return (transpose(g, None),)
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a % len(axes)] = i
    return (transpose(g, tuple(inverse)),)


_reshape = _view_op("reshape", lambda x, shape: x._reshape(shape),
                    lambda g, ins, y, args: (reshape(g, ins[0].shape),))
_transpose = _view_op("transpose", lambda x, axes: x._transpose(axes), _transpose_backward)
_expand_dims = _view_op("expand_dims", lambda x, axis: x._expand_dims(axis),
                        lambda g, ins, y, args: (reshape(g, ins[0].shape),))
_squeeze = _view_op("squeeze", lambda x, axis: x._squeeze(axis), lambda g, ins, y, args: (reshape(g, ins[0].shape),))
_broadcast_to = _view_op("broadcast_to", lambda x, shape: x._broadcast_to(shape),
                         lambda g, ins, y, args: (sum_to(g, ins[0].shape),))
_sum_to = _view_op("sum_to", lambda x, shape: _core._sum_to(x, shape),
                   lambda g, ins, y, args: (broadcast_to(g, ins[0].shape),))


def reshape(x, shape):
    """A view with the new shape when the strides allow it, else a copy; one -1 is inferred."""
    return _reshape(x, shape)


def _int_tuple(op, what, value):
    """An int or a sequence as a tuple (ints are checked by the C++ side, which names the op)."""
    if hasattr(type(value), "__index__") and getattr(value, "ndim", 0) == 0:
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int or a sequence of ints, not {type(value).__name__}") from None
    except MemoryError as e:  # a sequence claiming more items than memory holds
        raise MemoryError(f"{op}: {what}: {str(e) or 'cannot allocate a tuple that long'}") from e


def transpose(x, axes=None):
    """A view with the axes permuted (reversed when axes is None)."""
    return _transpose(x, None if axes is None else _int_tuple("transpose", "axes", axes))


def expand_dims(x, axis):
    """A view with new size-1 axes at the positions `axis` (an int or a tuple)."""
    return _expand_dims(x, axis)


def squeeze(x, axis=None):
    """A view without size-1 axes (all of them, or those in `axis`)."""
    if _zero_d_axis(x, axis):
        axis = None  # NumPy: a bare axis 0 or -1 is fine on a 0-d array
    return _squeeze(x, axis)


def broadcast_to(x, shape):
    """A view of x broadcast to `shape` (stride 0 along broadcast axes)."""
    return _broadcast_to(x, _int_tuple("broadcast_to", "shape", shape))


def sum_to(x, shape):
    """x summed down to `shape`: the reverse of broadcasting `shape` up to x.shape."""
    return _sum_to(x, tuple(shape))


_core_getitem = Tensor.__getitem__


def _getitem_backward(g, ins, y, args):
    # Basic indexing never selects an element twice, so scattering is assigning.
    gx = _core._full(ins[0].shape, 0, g._dtype_code)
    _core.Tensor.__setitem__(gx, args[0], g)
    return (gx,)


def getitem(x, key):
    """x[key] for basic indexing (a view); its gradient scatters back into zeros."""
    y = _core_getitem(x, key)
    if _recording():
        record(_getitem_backward, (x,), y, (key,))
    return y


# ---------------------------------------------------------------- joining

def concatenate(tensors, axis=0):
    """NumPy's concatenate: the tensors joined along an existing `axis`, in the promoted dtype
    (axis=None joins them flattened). Each piece is copied into its slice of the result (a
    kernel call, so a captured step replays it); the gradient of each input is its slice."""
    import numpy as np

    try:
        ts = [_as_tensor(t, "concatenate") for t in tensors]
    except TypeError as e:
        if "iterable" in str(e) or not hasattr(tensors, "__iter__"):
            raise TypeError(f"concatenate: expected a sequence of tensors, got {type(tensors).__name__}") from None
        raise
    if not ts:
        raise ValueError("concatenate: need at least one tensor to concatenate")
    if axis is None:
        ts, axis = [reshape(t, (-1,)) for t in ts], 0
    nd = ts[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    axis = _one_axis("concatenate", axis, nd)
    for i, t in enumerate(ts[1:], 1):
        if t.ndim != nd:
            raise ValueError(f"concatenate: all the input tensors must have the same number of dimensions, but "
                             f"the tensor at index 0 has {nd} dimension(s) and the tensor at index {i} has {t.ndim}")
        if any(a != b for k, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if k != axis):
            dim = next(k for k in range(nd) if k != axis and t.shape[k] != ts[0].shape[k])
            raise ValueError(f"concatenate: all the input tensor dimensions except for the concatenation axis "
                             f"must match exactly, but along dimension {dim}, the tensor at index 0 has shape "
                             f"{ts[0].shape} and the tensor at index {i} has shape {t.shape}")
    dtype = np.result_type(*[t.dtype.dtype for t in ts])
    shape = list(ts[0].shape)
    shape[axis] = builtins.sum(t.shape[axis] for t in ts)
    from .dtypes import as_dtype

    out = _core._empty(tuple(shape), as_dtype(dtype, "concatenate").code)
    keys, at = [], 0
    for t in ts:
        key = (slice(None),) * axis + (slice(at, at + t.shape[axis]),)
        _core.Tensor.__setitem__(out, key, t)
        keys.append(key)
        at += t.shape[axis]
    if _recording():
        record(lambda g, ins, y, _: tuple(getitem(g, k) for k in keys), tuple(ts), out)
    return out


def stack(tensors, axis=0):
    """NumPy's stack: the tensors (all of one shape) joined along a new `axis`."""
    ts = [_as_tensor(t, "stack") for t in tensors]
    if not ts:
        raise ValueError("stack: need at least one tensor to stack")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: all input tensors must have the same shape, got {[t.shape for t in ts]}")
    axis = _one_axis("stack", axis, ts[0].ndim + 1)
    return concatenate([expand_dims(t, axis) for t in ts], axis)


# ---------------------------------------------------------------- products

def _swap_last(t):
    n = t.ndim
    return transpose(t, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_backward(g, ins, y, _):
    a, b = ins
    if a.ndim == 1 and b.ndim == 1:
        return (multiply(g, b) if _is_tensor(a) else None, multiply(g, a) if _is_tensor(b) else None)
    a2 = expand_dims(a, 0) if a.ndim == 1 else a
    b2 = expand_dims(b, 1) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = expand_dims(g2, -1)
    ga = matmul(g2, _swap_last(b2)) if _is_tensor(a) else None
    gb = matmul(_swap_last(a2), g2) if _is_tensor(b) else None
    if ga is not None and a.ndim == 1:
        ga = sum_to(ga, (1,) + a.shape) if ga.ndim > 1 else ga
        ga = reshape(ga, a.shape)
    if gb is not None and b.ndim == 1:
        gb = sum_to(gb, b.shape + (1,)) if gb.ndim > 1 else gb
        gb = reshape(gb, b.shape)
    return ga, gb


def matmul(a, b):
    """NumPy's matmul: 1-D operands are promoted and the added axis removed; batch axes broadcast.

    Every product runs on pynn's own GEMM; transposed operands are read in place.
    """
    y = _core.matmul(a, b)
    if _recording():
        a, b = _as_tensor(a, "matmul"), _as_tensor(b, "matmul")
        record(_matmul_backward, (a, b), y)
    return y


def dot(a, b):
    """NumPy's dot: inner product of 1-D, matmul of 2-D, a scalar multiplies, and for N-D
    a sum product over the last axis of a and the second-to-last of b."""
    if _recording():
        a, b = _as_tensor(a, "dot"), _as_tensor(b, "dot")
        if a.ndim == 0 or b.ndim == 0:
            return multiply(a, b)
        if a.ndim <= 2 and b.ndim <= 2:
            return matmul(a, b)  # the same product for 1-D and 2-D operands
        return tensordot(a, b, ([a.ndim - 1], [b.ndim - 2 if b.ndim > 1 else 0]))
    return _core.dot(a, b)


def tensordot(a, b, axes=2):
    """Sum products over the last `axes` axes of a and the first of b, or over the axes
    named by a pair of sequences ``(axes_a, axes_b)``."""
    if not _recording():
        return _core.tensordot(a, b, axes)
    # Recording: the same transposes, reshapes and GEMM as the C++ path, as
    # recorded ops, so the gradient follows from theirs.
    a, b = _as_tensor(a, "tensordot"), _as_tensor(b, "tensordot")
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = [int(i) for i in axes[0]], [int(i) for i in axes[1]]
    axes_a = [i % a.ndim for i in axes_a]
    axes_b = [i % b.ndim for i in axes_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = 1
    for i in axes_a:
        k *= a.shape[i]
    m = 1
    for i in free_a:
        m *= a.shape[i]
    n = 1
    for i in free_b:
        n *= b.shape[i]
    if len(axes_a) != len(axes_b) or any(a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        return _core.tensordot(a, b, (axes_a, axes_b))  # raises the C++ path's error
    a2 = reshape(transpose(a, tuple(free_a + axes_a)), (m, k))
    b2 = reshape(transpose(b, tuple(axes_b + free_b)), (k, n))
    out_shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return reshape(matmul(a2, b2), out_shape)


# ---------------------------------------------------------------- softmax

def _to_rows(x, axis, op):
    """x with `axis` moved last and flattened to (rows, classes), and how to undo that."""
    nd = x.ndim
    axis = _one_axis(op, axis, nd, builtins_max(nd, 1))
    if nd == 0:
        return x._reshape((1, 1)), None, ()
    perm = tuple(i for i in range(nd) if i != axis) + (axis,)
    moved = x._transpose(perm)
    rows = 1
    for d in moved.shape[:-1]:
        rows *= d
    return moved._reshape((rows, moved.shape[-1])), perm, moved.shape  # not -1: size 0 rows of 0 classes


def _from_rows(y, perm, moved_shape):
    if perm is None:
        return y._reshape(())
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return y._reshape(moved_shape)._transpose(tuple(inverse))


def _softmax_backward(g, ins, y, axis):
    return (multiply(y, subtract(g, sum(multiply(g, y), axis=axis, keepdims=True))),)


def _log_softmax_backward(g, ins, y, axis):
    return (subtract(g, multiply(exp(y), sum(g, axis=axis, keepdims=True))),)


def _softmax_rows_op(x, axis, log):
    op = "log_softmax" if log else "softmax"
    x = _as_tensor(x, op)
    rows, perm, shape = _to_rows(x, axis, op)
    y = _from_rows(_core._softmax_rows(rows, log), perm, shape)
    if _recording():
        record(_log_softmax_backward if log else _softmax_backward, (x,), y, axis)
    return y


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`, one fused, numerically stable pass per row."""
    return _softmax_rows_op(x, axis, False)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, as x - max - log(sum(exp(x - max))) in one pass per row."""
    return _softmax_rows_op(x, axis, True)


def softmax_cross_entropy(logits, labels):
    """The batch mean of the cross-entropy between softmax(logits) and the targets.

    logits: (batch, classes) floats. labels: integer class indices (batch,), or
    probabilities / one-hot rows (batch, classes). One fused kernel computes the
    loss with log-sum-exp and, while a tape records, the gradient
    (softmax - target) / batch in the same pass; the backward only scales it.
    """
    logits = _as_tensor(logits, "softmax_cross_entropy")
    n = logits.shape[0] if logits.ndim == 2 else 1
    recording = _recording()
    loss_rows, grad = _core._softmax_xent(logits, labels, 1.0 / builtins_max(n, 1), bool(recording))
    loss = _core._reduce(_core._ReduceOp.mean, loss_rows, None, False)
    if recording:
        def backward(g, ins, y, saved):
            if not _recording():
                return (multiply(saved, g),)
            # Recorded by an outer tape: (softmax - target) / batch as recorded ops.
            target = _as_tensor(labels, "softmax_cross_entropy")
            if not target.dtype.is_floating_point:
                import numpy as np

                target = _core._copy_from(np.eye(logits.shape[1], dtype=logits.dtype.dtype)[np.asarray(target)])
            return (multiply(divide(subtract(softmax(ins[0]), target), builtins_max(n, 1)), g),)
        record(backward, (logits,), loss, grad)
    return loss


def sigmoid_binary_cross_entropy(logits, targets):
    """The mean of -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)), computed from the logits
    as max(x, 0) - x t + log1p(exp(-|x|)) in one fused pass (never overflows); the
    gradient (sigmoid(x) - t) / size is one more pass. Targets take no gradient."""
    x = _as_tensor(logits, "sigmoid_binary_cross_entropy")
    loss = _core._reduce(_core._ReduceOp.mean, _core.bce_logits(x, targets, None), None, False)
    if _recording():
        def backward(g, ins, y, _):
            d = subtract(sigmoid(ins[0]), targets) if _recording() else _core.bce_logits_grad(ins[0], targets, None)
            return (multiply(d, divide(g, builtins_max(ins[0].size, 1))),)
        record(backward, (x,), loss)
    return loss


_ACTIVATIONS = {None: _core._Activation.linear, "linear": _core._Activation.linear,
                "relu": _core._Activation.relu, "sigmoid": _core._Activation.sigmoid,
                "tanh": _core._Activation.tanh, "softmax": _core._Activation.softmax}


def _dense_act_backward(g, ins, y, saved):
    x, kernel, bias = ins
    op, h, z = saved
    if _recording():
        # An outer tape records this backward: z again as recorded ops, so act''
        # reaches x, kernel and bias.
        z = matmul(x, kernel) if bias is None else add(matmul(x, kernel), bias)
        dz = _act_derivative(op, g, z, y, h, 1)
        return (matmul(dz, transpose(kernel)), matmul(transpose(x), dz),
                None if bias is None else sum(dz, axis=0))
    return _core._dense_act_backward(g, x, kernel, z, y, op, h, bool(_state.needs[0]), bias is not None)


def _dense_backward(g, ins, y, act):
    x, kernel, bias = ins
    if _recording():
        # An outer tape records this backward (higher-order gradients): the
        # same math as recorded ops, so its dependencies are seen.
        A = _core._Activation
        dz = {A.linear: lambda: g, A.relu: lambda: where(greater(y, 0), g, 0),
              A.sigmoid: lambda: multiply(g, multiply(y, subtract(1, y))),
              A.tanh: lambda: multiply(g, subtract(1, square(y))),
              A.softmax: lambda: multiply(y, subtract(g, sum(multiply(g, y), axis=1, keepdims=True)))}[act]()
        return (matmul(dz, transpose(kernel)), matmul(transpose(x), dz),
                None if bias is None else sum(dz, axis=0))
    dx, dw, db = _core._dense_backward(g, x, kernel, y, act, bool(_state.needs[0]), bias is not None)
    return dx, dw, db


def dense(x, kernel, bias=None, activation=None):
    """activation(x @ kernel + bias) as one fused layer (Note [Dense layer] in csrc/kernels/nn.h).

    x: (batch, in) floats, kernel: (in, units), bias: (units,) or None; activation:
    None/"linear", "relu", "sigmoid", "tanh" or "softmax", or a pair (a _core._Act, its
    scalars) for any registry activation (its pre-activation is kept for the backward). One graph node whose
    backward folds the activation's derivative into the incoming gradient and
    gets dx and dkernel from GEMMs on transposed views.
    """
    if isinstance(activation, tuple):  # (a _core._Act, its scalars): a registry activation in the epilogue
        op, h = activation[0], [float(p) for p in activation[1]]
        x, kernel = _as_tensor(x), _as_tensor(kernel)
        bias = None if bias is None else _as_tensor(bias)
        y, z = _core._dense_act(x, kernel, bias, op, h)
        if _recording():
            record(_dense_act_backward, (x, kernel, bias), y, (op, h, z))
        return y
    if activation not in _ACTIVATIONS:
        raise ValueError(f"dense: unknown activation {activation!r}; expected one of "
                         f"{sorted(k for k in _ACTIVATIONS if k)} or None")
    act = _ACTIVATIONS[activation]
    x, kernel = _as_tensor(x, "dense"), _as_tensor(kernel, "dense")
    bias = None if bias is None else _as_tensor(bias, "dense")
    y = _core._dense(x, kernel, bias, act)
    if _recording():
        record(_dense_backward, (x, kernel, bias), y, act)
    return y


def _batch_norm_recorded_backward(g, x, gamma, moving, axis, epsilon, training):
    """The batch-norm backward as recorded ops (an outer tape records it: higher-order
    gradients), the fused kernel's formulas (Note [Batch norm] in csrc/kernels/norm.h)."""
    axis = axis % x.ndim
    axes = tuple(i for i in range(x.ndim) if i != axis)
    stat_shape = tuple(x.shape[i] if i == axis else 1 for i in range(x.ndim))
    if training:
        count = x.size // builtins_max(x.shape[axis], 1)
        centered = subtract(x, mean(x, axis=axes, keepdims=True))
        var = mean(square(centered), axis=axes, keepdims=True)
    else:
        centered = subtract(x, reshape(moving[0], stat_shape))
        var = reshape(moving[1], stat_shape)
    inv_std = divide(1, sqrt(add(var, epsilon)))
    xhat = multiply(centered, inv_std)
    sum_g = sum(g, axis=axes, keepdims=True)
    sum_g_xhat = sum(multiply(g, xhat), axis=axes, keepdims=True)
    scale = inv_std if gamma is None else multiply(reshape(gamma, stat_shape), inv_std)
    if training:
        dx = multiply(divide(scale, count),
                      subtract(subtract(multiply(g, count), sum_g), multiply(xhat, sum_g_xhat)))
    else:
        dx = multiply(g, scale)
    c = (x.shape[axis],)
    grads = [dx, None if gamma is None else reshape(sum_g_xhat, c), reshape(sum_g, c)]
    if not training:  # the moving statistics: y depends on them in inference
        grads += [reshape(negative(multiply(scale, sum_g)), c),
                  reshape(multiply(multiply(multiply(scale, inv_std), sum_g_xhat), -0.5), c)]
    return tuple(grads)


def _batch_norm_backward(g, ins, y, attrs):
    axis, epsilon, training, saved = attrs
    x, gamma, beta = ins[:3]
    needs = _state.needs
    if _recording():
        gx = _batch_norm_recorded_backward(g, x, gamma, ins[3:], axis, epsilon, training)
        return gx[:2] + (None if beta is None else gx[2],) + gx[3:]
    need_sums = any(needs[1:])
    dx, sum_g_xhat, sum_g = _core._batch_norm_backward(g, x, saved, gamma, axis, training, bool(needs[0]), need_sums)
    grads = (dx, None if gamma is None else sum_g_xhat, None if beta is None else sum_g)
    if training:
        return grads
    dmean = dvar = None
    if needs[3] or needs[4]:  # the moving statistics' gradients (rarely watched): per feature
        inv_std = _core_getitem(saved, 1)
        scale = inv_std if gamma is None else multiply(gamma, inv_std)
        dmean = negative(multiply(scale, sum_g)).astype(x.dtype)
        dvar = multiply(multiply(multiply(scale, inv_std), sum_g_xhat), -0.5).astype(x.dtype)
    return grads + (dmean, dvar)


def batch_norm(x, axis=-1, gamma=None, beta=None, epsilon=1e-3, training=True, moving_mean=None,
               moving_variance=None):
    """Batch normalization over every axis of x but `axis`, as one op (Note [Batch norm] in
    csrc/kernels/norm.h): y = (x - mean) / sqrt(var + epsilon) * gamma + beta.

    training: mean and var are the batch's (the biased variance, accumulated in float64);
    else the given moving_mean and moving_variance. x: float32 or float64; gamma, beta
    (None: 1 and 0) and the moving statistics: x's dtype, shape (x.shape[axis],).
    Returns (y, mean, var): the statistics used, the batch's in training (no gradient flows
    through them) or the moving ones as given. The backward is two passes over x: the
    per-feature sums of g and g * xhat, then dx.
    """
    x = _as_tensor(x, "batch_norm")
    gamma = None if gamma is None else _as_tensor(gamma, "batch_norm")
    beta = None if beta is None else _as_tensor(beta, "batch_norm")
    training = bool(training)
    if not training:
        moving_mean = None if moving_mean is None else _as_tensor(moving_mean, "batch_norm")
        moving_variance = None if moving_variance is None else _as_tensor(moving_variance, "batch_norm")
    epsilon = float(epsilon)
    y, batch_mean, batch_var, saved = _core._batch_norm(x, axis, gamma, beta, epsilon, training, moving_mean,
                                                         moving_variance)
    if _recording():
        ins = (x, gamma, beta) if training else (x, gamma, beta, moving_mean, moving_variance)
        record(_batch_norm_backward, ins, y, (axis, epsilon, training, saved))
    if training:
        return y, batch_mean, batch_var
    return y, moving_mean, moving_variance


def dropout(x, rate, key):
    """Inverted dropout of a float tensor: each element kept with probability 1 - rate and
    scaled by 1 / (1 - rate), else 0, the mask a function of `key` (a one-element int64 tensor)
    and the element's index (Note [Dropout masks] in csrc/kernels/nn.cpp). The backward is the
    same dropout of the gradient, the mask recomputed from the key, never stored."""
    x = _as_tensor(x, "dropout")
    y = _core._dropout(x, float(rate), key)
    if _recording():
        record(lambda g, ins, out, _: (dropout(g, rate, key),), (x,), y)
    return y


# ---------------------------------------------------------------- pooling

def _to_nhwc(t, nd, fmt, views):
    """A (N, L, C) / (N, C, L) or (N, H, W, C) / (N, C, H, W) tensor as an (N, H, W, C) view, H == 1 for 1-D.
    views: (transpose, expand_dims, reshape) to make it with: _RAW_VIEWS, or the recorded ops."""
    transpose_, expand_dims_, _ = views
    if fmt == "channels_first":
        t = transpose_(t, (0,) + tuple(range(2, nd)) + (1,))
    return expand_dims_(t, 1) if nd == 3 else t


def _from_nhwc(t, nd, fmt, views):
    """The inverse of _to_nhwc: an (N, H, W, C) tensor in the caller's rank and data format."""
    transpose_, _, reshape_ = views
    if nd == 3:
        t = reshape_(t, (t.shape[0], t.shape[2], t.shape[3]))
    if fmt == "channels_first":
        t = transpose_(t, (0, nd - 1) + tuple(range(1, nd - 1)))
    return t


# Views that record nothing (the forward records one node on the input itself).
_RAW_VIEWS = (lambda t, axes: t._transpose(axes), lambda t, axis: t._expand_dims(axis),
              lambda t, shape: t._reshape(shape))


def _max_pool_grad(g4, argmax, shape4, code, geometry):
    """dx (N, H, W, C) of max pooling: g4 given to each window's argmax (Note [Pooling]). Linear in g4; under an
    outer tape its own gradient is the gather of the incoming gradient at the argmax."""
    dx = _core._max_pool2d_backward(g4, argmax, shape4, code, geometry)
    if _recording():
        record(lambda h, ins, out, _: (_max_pool_gather(h, argmax, geometry),), (g4,), dx)
    return dx


def _max_pool_gather(h, argmax, geometry):
    """h (N, H, W, C) at each window's argmax: the adjoint of _max_pool_grad."""
    out = _core._max_pool2d_gather(h, argmax)
    if _recording():
        record(lambda g, ins, o, _: (_max_pool_grad(g, argmax, ins[0].shape, ins[0]._dtype_code, geometry),),
               (h,), out)
    return out


def _avg_pool_grad(g4, shape4, code, geometry):
    """dx (N, H, W, C) of average pooling: g4 / count spread over each window. Linear in g4; its own gradient is
    average pooling of the incoming gradient."""
    dx = _core._avg_pool2d_backward(g4, shape4, code, geometry)
    if _recording():
        record(lambda h, ins, out, _: (_avg_pool_nhwc(h, geometry),), (g4,), dx)
    return dx


def _avg_pool_nhwc(v, geometry):
    y = _core._avg_pool2d(v, geometry)
    if _recording():
        record(lambda g, ins, out, _: (_avg_pool_grad(g, ins[0].shape, ins[0]._dtype_code, geometry),), (v,), y)
    return y


def _pool_backward(g, ins, y, attrs):
    kind, argmax, shape4, geometry, nd, fmt = attrs
    x = ins[0]
    views = (transpose, expand_dims, reshape)  # recorded when an outer tape records this backward
    g4 = _to_nhwc(_as_tensor(g, kind), nd, fmt, views)
    if kind == "max_pool":
        dx4 = _max_pool_grad(g4, argmax, shape4, x._dtype_code, geometry)
    else:
        dx4 = _avg_pool_grad(g4, shape4, x._dtype_code, geometry)
    return (_from_nhwc(dx4, nd, fmt, views),)


def _pool(kind, inputs, pool_size, strides, padding, data_format, rank=None):
    """Max or average pooling (Note [Pooling] in csrc/kernels/pool.h) of a 3-D (1-D pooling) or 4-D (2-D
    pooling) input with Keras 3's arguments; `rank` restricts the input's rank (the 1d / 2d aliases)."""
    op = kind
    x = _as_tensor(inputs, op)
    if x.ndim not in ((3, 4) if rank is None else (rank,)):
        want = "a 3-D (1-D pooling) or 4-D (2-D pooling)" if rank is None else f"a {rank}-D"
        raise ValueError(f"{op}: expected {want} input (batch, spatial..., channels) or (batch, channels, "
                         f"spatial...), got shape {x.shape}")
    nd = x.ndim
    n_spatial = nd - 2
    pool = _spatial.int_tuple(op, "pool_size", pool_size, n_spatial)
    stride = pool if strides is None else _spatial.int_tuple(op, "strides", strides, n_spatial)
    padding = _spatial.padding(op, padding)
    fmt = _spatial.data_format(op, data_format)
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float32 or float64 input, got {x.dtype.name}")
    v = _to_nhwc(x, nd, fmt, _RAW_VIEWS)
    if nd == 3:
        pool, stride = (1,) + pool, (1,) + stride
    (_, oh_top, oh_bottom), (_, ow_left, ow_right) = (
        _spatial.axis_extent(op, v.shape[1 + i], pool[i], stride[i], padding, x.shape) for i in range(2))
    geometry = pool + stride + (oh_top, oh_bottom, ow_left, ow_right)
    if kind == "max_pool":
        y4, argmax = _core._max_pool2d(v, geometry)
    else:
        y4, argmax = _core._avg_pool2d(v, geometry), None
    y = _from_nhwc(y4, nd, fmt, _RAW_VIEWS)
    if _recording():
        record(_pool_backward, (x,), y, (kind, argmax, v.shape, geometry, nd, fmt))
    return y


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Keras 3's ops.max_pool: the largest element of each window of a 3-D (batch, steps, channels) or 4-D
    (batch, height, width, channels) input (channels second for data_format="channels_first").

    pool_size and strides: an int or one per spatial axis (strides None: pool_size); padding "valid" (none)
    or "same" (TensorFlow's: out = ceil(in / stride), padded positions never win). A NaN in a window gives
    NaN. The gradient goes to each window's first largest element (Note [Pooling] in csrc/kernels/pool.h).
    """
    return _pool("max_pool", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Keras 3's ops.average_pool: the mean of each window, with max_pool's arguments; with "same" padding a
    window divides by the number of input elements it holds (padded positions do not count)."""
    return _pool("average_pool", inputs, pool_size, strides, padding, data_format)


def max_pool1d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """max_pool of a 3-D input (batch, steps, channels)."""
    return _pool("max_pool", inputs, pool_size, strides, padding, data_format, rank=3)


def max_pool2d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """max_pool of a 4-D input (batch, height, width, channels)."""
    return _pool("max_pool", inputs, pool_size, strides, padding, data_format, rank=4)


def avg_pool1d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """average_pool of a 3-D input (batch, steps, channels)."""
    return _pool("average_pool", inputs, pool_size, strides, padding, data_format, rank=3)


def avg_pool2d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """average_pool of a 4-D input (batch, height, width, channels)."""
    return _pool("average_pool", inputs, pool_size, strides, padding, data_format, rank=4)


def builtins_max(a, b):
    return a if a >= b else b


# Convolutions (Note [Convolution] in csrc/kernels/conv.h) live in their own module.
from ._conv import (conv, conv1d, conv1d_transpose, conv2d, conv2d_transpose, conv_transpose,  # noqa: E402
                    depthwise_conv, depthwise_conv2d, separable_conv, separable_conv2d)
from ._pad import pad  # noqa: E402  (built on the ops above)
