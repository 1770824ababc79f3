"""The Tensor type and the functions that create tensors.

Note [Tensor is the C++ class]
``pynn.Tensor`` is ``pynn._core.Tensor`` itself: storage, views, indexing and
the buffer protocol are C++ (csrc/bindings/bind_tensor.cpp), so results come
back from the kernels without a Python wrapper object. This module adds the
Python-level methods (dtype objects, operators, repr, NumPy conversion) to
that class. Element-wise math goes through :mod:`pynn.ops`.
"""

import numpy as np

from . import _core
from . import ops
from .dtypes import BY_CODE, as_dtype, bool_, float32, float64, int64
from .utils import named_error

__all__ = [
    "Tensor", "tensor", "from_numpy", "empty", "zeros", "ones", "full", "arange", "eye",
    "empty_like", "zeros_like", "ones_like", "full_like",
]

Tensor = _core.Tensor
Tensor.__module__ = "pynn"


def _method(fn):
    setattr(Tensor, fn.__name__, fn)
    return fn


# ---------------------------------------------------------------- attributes

Tensor.dtype = property(lambda self: BY_CODE[self._dtype_code], doc="The element type (a pynn.DType).")
Tensor.T = property(lambda self: ops.transpose(self), doc="The tensor with its axes reversed (a view).")
Tensor.__getitem__ = ops.getitem
# NumPy's binary operators defer to ours when a tensor is on the right.
Tensor.__array_priority__ = 1000


# ---------------------------------------------------------------- NumPy interop

@_method
def numpy(self):
    """A NumPy array sharing this tensor's memory (no copy)."""
    return np.asarray(memoryview(self))


@_method
def __array__(self, dtype=None, copy=None):
    a = np.asarray(memoryview(self))
    if dtype is not None and a.dtype != np.dtype(dtype):
        if copy is False:
            raise ValueError(f"__array__: converting a {self.dtype} tensor to {np.dtype(dtype)} requires a copy")
        return a.astype(dtype)
    return a.copy() if copy else a


@_method
def tolist(self):
    return self.numpy().tolist()


@_method
def item(self):
    return self.numpy().item()


@_method
def __float__(self):
    return float(self.item())


@_method
def __int__(self):
    return int(self.item())


@_method
def __index__(self):
    if self.dtype.is_floating_point or self.dtype == bool_ or self.ndim != 0:
        raise TypeError("__index__: only 0-d integer tensors can be converted to an index (as NumPy)")
    return int(self.item())


@_method
def __bool__(self):
    if self.size != 1:
        raise ValueError(
            "The truth value of a tensor with more than one element is ambiguous. Use a.any() or a.all()"
            if self.size else "The truth value of an empty tensor is ambiguous"
        )
    return bool(self.item())


@_method
def __iter__(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield self[i]


@_method
def __repr__(self):
    a = self.numpy()
    if a.size == 0 and a.ndim > 1:
        return f"tensor([], shape={a.shape}, dtype={self.dtype.name})"
    body = np.array2string(a, separator=", ", prefix="tensor(")
    return f"tensor({body}, dtype={self.dtype.name})"


@_method
def __str__(self):
    return str(self.numpy())


@_method
def __format__(self, spec):
    """f"{loss:.4f}" formats a one-element tensor as its Python scalar; an empty spec is str()."""
    if not spec:
        return str(self)
    if self.ndim != 0:
        raise TypeError(f"unsupported format string passed to a tensor of shape {self.shape}: "
                        f"only 0-d tensors take a format spec")
    return format(self.item(), spec)


@_method
def __round__(self, ndigits=None):
    """round(t): the Python scalar's round for a 0-d tensor; a rounded copy otherwise."""
    if self.ndim == 0:
        return round(self.item(), ndigits)
    return tensor(np.round(self.numpy(), ndigits or 0))


@_method
def __complex__(self):
    return complex(self.item())


# Note [Pickling tensors]
# A tensor pickles (and copy.copy / copy.deepcopy's) as its own data: dtype, shape
# and a C-contiguous copy of the elements, never the storage a view shares. So a
# view of a large tensor pickles small, and unpickling gives a fresh, writeable,
# contiguous tensor. Subclasses (Variable) add their own state through __dict__.
def _rebuild(cls, array, state=None):
    if cls is Tensor:
        return tensor(array)
    t = cls.__new__(cls)
    Tensor.__init__(t, tensor(array))
    if state:
        t.__dict__.update(state)
    return t


@_method
def __reduce__(self):
    state = getattr(self, "__dict__", None) or None
    # np.array(..., order="C"), not np.ascontiguousarray: the latter makes a 0-d array 1-d.
    return _rebuild, (type(self), np.array(self.numpy(), order="C", copy=True), state)


# ---------------------------------------------------------------- views and copies

@_method
def reshape(self, *shape):
    """A view with the new shape when the strides allow it, else a copy; one -1 is inferred."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return ops.reshape(self, shape)


@_method
def transpose(self, *axes):
    """A view with the axes permuted (reversed when no axes are given)."""
    if not axes:
        axes = None  # t.transpose(): reversed
    elif len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
        axes = axes[0]  # t.transpose(None) reverses; t.transpose(()) must match ndim, as in NumPy
    return ops.transpose(self, axes)


@_method
def squeeze(self, axis=None):
    return ops.squeeze(self, axis)


@_method
def flatten(self):
    """A contiguous 1-D copy."""
    return self.copy().reshape(-1)


@_method
def ravel(self):
    """1-D: a view when possible, else a copy."""
    return self.reshape(-1)


@_method
def astype(self, dtype):
    """A new tensor of `dtype` (always a copy, like NumPy's default; None means float64, as NumPy)."""
    return self._astype((as_dtype(dtype, "astype") or float64).code)


@_method
def copy(self):
    return self._astype(self._dtype_code)


@_method
def contiguous(self):
    """This tensor when C-contiguous, else a C-contiguous copy."""
    return self._contiguous()


# ---------------------------------------------------------------- operators

def _binary(fn):
    def op(self, other):
        return fn(self, other)

    def rop(self, other):
        return fn(other, self)

    return op, rop


for _name, _fn in [
    ("add", ops.add), ("sub", ops.subtract), ("mul", ops.multiply), ("truediv", ops.divide),
    ("pow", ops.power),
]:
    _op, _rop = _binary(_fn)
    setattr(Tensor, f"__{_name}__", _op)
    setattr(Tensor, f"__r{_name}__", _rop)

for _name, _fn in [("add", ops.add), ("sub", ops.subtract), ("mul", ops.multiply), ("truediv", ops.divide)]:
    setattr(Tensor, f"__i{_name}__", (lambda fn: lambda self, other: fn(self, other, out=self))(_fn))

def _comparison(fn, sym, reflected):
    # Python calls t.__ge__(x) for both t >= x and the reflected x <= t, so a
    # conversion error of x names both operators besides fn's own name.
    def op(self, other):
        try:
            return fn(self, other)
        except (TypeError, ValueError, OverflowError) as e:
            if isinstance(other, Tensor):
                raise
            raise named_error(f"{sym} (or reflected {reflected})", e) from e

    return op


for _name, _fn, _sym, _refl in [
    ("eq", ops.equal, "==", "=="), ("ne", ops.not_equal, "!=", "!="), ("lt", ops.less, "<", ">"),
    ("le", ops.less_equal, "<=", ">="), ("gt", ops.greater, ">", "<"), ("ge", ops.greater_equal, ">=", "<="),
]:
    setattr(Tensor, f"__{_name}__", _comparison(_fn, _sym, _refl))

Tensor.__matmul__ = lambda self, other: ops.matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: ops.matmul(other, self)
Tensor.__neg__ = lambda self: ops.negative(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: ops.abs(self)
Tensor.__hash__ = object.__hash__  # identity, like PyTorch (== is element-wise)

for _name in ("clip", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "square", "abs", "dot"):
    setattr(Tensor, _name, getattr(ops, _name))


def _reduction_method(fn):
    # NumPy's functions (np.mean(t), np.sum(t)) call the method with dtype= and out=.
    def method(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        r = fn(self, axis=axis, keepdims=keepdims)
        if dtype is not None:
            r = r.astype(dtype)
        if out is not None:
            out[...] = r
            return out
        return r

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


for _name in ("sum", "mean", "max", "min", "argmax", "argmin"):
    setattr(Tensor, _name, _reduction_method(getattr(ops, _name)))

del _name, _fn, _op, _rop


# ---------------------------------------------------------------- creation

def _default_dtype_for(value):
    if isinstance(value, (np.generic, np.ndarray)) and value.dtype.kind in "biuf":
        return as_dtype(value.dtype, "full")  # a NumPy scalar keeps its dtype, as in NumPy
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return float32


def tensor(data, dtype=None):
    """A new tensor holding a copy of `data` (a tensor, NumPy array, nested list or scalar).

    NumPy arrays keep their dtype. Python floats become float32 (pynn's default
    float, as in PyTorch), ints int64, bools bool.
    """
    return _tensor(data, dtype, "tensor")


def _tensor(data, dtype, op):
    """pynn.tensor, with `op` (the public function converting its argument) named in errors."""
    d = as_dtype(dtype, op)
    if isinstance(data, Tensor):
        return data.astype(d) if d is not None else data.copy()
    if isinstance(data, (np.ndarray, np.generic)):
        a = data if d is None else np.asarray(data, dtype=d.dtype)
    else:
        try:
            a = np.asarray(data, dtype=None if d is None else d.dtype)
        except (TypeError, ValueError, OverflowError) as e:  # a ragged list, 2**64: NumPy's message, op named
            raise named_error(op, e) from e
        except MemoryError as e:  # e.g. a sequence claiming 2**62 items
            raise MemoryError(f"{op}: {str(e) or 'cannot allocate the array'}") from e
        if d is None and a.dtype == np.float64:
            a = a.astype(np.float32)
    as_dtype(a.dtype, op)  # TypeError naming the dtype when pynn lacks it
    # Unaligned arrays (views into packed bytes) cannot be shared; copy them first.
    return _core._copy_from(np.require(a, requirements="A"))


def from_numpy(array):
    """A tensor sharing memory with `array` (any strides); the array is kept alive."""
    return _core.from_numpy(array)


def empty(shape, dtype=float32):
    """An uninitialised tensor (dtype None means float32, pynn's default float)."""
    return _core._empty(shape, (as_dtype(dtype, "empty") or float32).code)


def full(shape, fill_value, dtype=None):
    return _full(shape, fill_value, dtype, "full")


def _full(shape, fill_value, dtype, op):
    d = as_dtype(dtype, op)
    if d is None:
        d = _default_dtype_for(fill_value)
        if type(fill_value) is int and not -2**63 <= fill_value < 2**63:
            # NumPy picks uint64 (or object) for such an int; pynn has neither.
            raise OverflowError(f"{op}: Python integer {fill_value} out of bounds for int64 (pynn's default "
                                f"integer dtype; pynn has no uint64): pass dtype='float64' to store it as a float")
    return _core._full(shape, fill_value, d.code, op)


def zeros(shape, dtype=float32):
    return _core._full(shape, 0, (as_dtype(dtype, "zeros") or float32).code, "zeros")


def ones(shape, dtype=float32):
    return _core._full(shape, 1, (as_dtype(dtype, "ones") or float32).code, "ones")


def _like(t, dtype, op):
    """The shape and dtype of `t` (a tensor, or any array-like as pynn.tensor would convert it)."""
    if not isinstance(t, Tensor):
        try:
            a = np.asarray(t)
        except (TypeError, ValueError, OverflowError) as e:  # e.g. a ragged list
            raise named_error(op, e) from e
        except MemoryError as e:
            raise MemoryError(f"{op}: {str(e) or 'cannot allocate the array'}") from e
        if a.dtype == np.float64 and not isinstance(t, (np.ndarray, np.generic)):
            a = a.astype(np.float32)  # Python floats give float32, as in pynn.tensor
        t = a
    return tuple(t.shape), as_dtype(dtype, op) or as_dtype(t.dtype, op)


def empty_like(t, dtype=None):
    shape, d = _like(t, dtype, "empty_like")
    return empty(shape, d)


def zeros_like(t, dtype=None):
    shape, d = _like(t, dtype, "zeros_like")
    return zeros(shape, d)


def ones_like(t, dtype=None):
    shape, d = _like(t, dtype, "ones_like")
    return ones(shape, d)


def full_like(t, fill_value, dtype=None):
    shape, d = _like(t, dtype, "full_like")
    return _full(shape, fill_value, d, "full_like")


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop); ints give int64, floats float32 unless dtype says."""
    if stop is None:
        start, stop = 0, start
    if step is None:  # NumPy's default
        step = 1
    if stop is None:
        raise TypeError("arange: stop must be a number, got None")
    d = as_dtype(dtype, "arange")
    if d is None:
        d = int64 if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)) else float32
    if not d.is_floating_point:  # NumPy gives an empty range for bounds past int64
        for v in (start, stop, step):
            if isinstance(v, int) and not -2**63 <= v < 2**63:
                raise OverflowError(f"arange: Python integer {v} out of bounds for int64")
    try:
        a = np.arange(start, stop, step, dtype=d.dtype)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError) as e:  # NumPy's message, op named
        raise named_error("arange", e) from e
    return _core._copy_from(a)


def eye(N, M=None, k=0, dtype=float32):
    """The identity-like matrix of NumPy's eye (ones on diagonal k)."""
    d = as_dtype(dtype, "eye") or float32
    try:
        a = np.eye(N, M, k, dtype=d.dtype)
    except (TypeError, ValueError) as e:  # NumPy's message, with the op named
        raise named_error("eye", e) from e
    return _core._copy_from(a)
