"""Reshaping layers for sequences and images (Keras 3): ZeroPadding1D, ZeroPadding2D, Cropping1D,
Cropping2D, UpSampling1D, UpSampling2D, Permute, RepeatVector.

Inputs are (batch, steps, channels) or (batch, rows, cols, channels) by default
(data_format="channels_last"); data_format="channels_first" puts the channels right after
the batch. Every layer is built from recorded, captured ops (pad, basic indexing, reshape,
broadcast_to, matmul), so it takes gradients and runs in a captured training step.
"""

import functools
import operator

import numpy as np

from .. import _core, _spatial, ops
from ..autograd import record
from .base import Layer, register, shape_str
from .core import _single

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
           "Permute", "RepeatVector"]


# ---------------------------------------------------------------- arguments

def _int(value):
    """value as a Python int when it is an integer (not a bool), else None."""
    if isinstance(value, (bool, np.bool_)) or not hasattr(type(value), "__index__"):
        return None
    return operator.index(value)


def _int_tuple(op, name, value, n, allow_zero):
    """Keras' standardize_tuple: an int repeated n times, or a sequence of n ints; each
    >= 0 (allow_zero) or > 0; anything else is a ValueError naming the layer and argument."""
    bound = ">= 0" if allow_zero else "> 0"
    what = f"{op}: `{name}` must be an int or a tuple of {n} ints, each {bound}; got {value!r:.80}"
    v = _int(value)
    if v is not None:
        values = (v,) * n
    else:
        if isinstance(value, str):
            raise ValueError(what)
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(what) from None
        values = tuple(_int(i) for i in items)
        if len(values) != n or None in values:
            raise ValueError(what)
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise ValueError(what)
    return values


def _pairs_2d(op, name, value):
    """((top, bottom), (left, right)) from an int, a pair (each side of an axis alike) or a
    pair of pairs, Keras' forms for ZeroPadding2D and Cropping2D."""
    v = _int(value)
    if v is not None:
        if v < 0:
            raise ValueError(f"{op}: `{name}` must be >= 0, got {value}")
        return ((v, v), (v, v))
    try:
        items = tuple(value) if not isinstance(value, str) else None
    except TypeError:
        items = None
    if items is None or len(items) != 2:
        raise ValueError(f"{op}: `{name}` must be an int, a pair of ints (rows, cols) or a pair of pairs "
                         f"((top, bottom), (left, right)); got {value!r:.80}")
    return (_int_tuple(op, f"{name}[0]", items[0], 2, True), _int_tuple(op, f"{name}[1]", items[1], 2, True))


def _check_rank(layer, shape, n, layout):
    if len(shape) != n:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expects inputs of rank {n} {layout}, got "
                         f"shape {shape_str(shape)}")


def _layout(data_format, spatial):
    return "(batch, channels, " + spatial + ")" if data_format == "channels_first" else \
        "(batch, " + spatial + ", channels)"


def _spatial_axes(data_format, count):
    """The axes of the spatial dimensions of a (count + 2)-D input."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + count))


# ---------------------------------------------------------------- padding

class _ZeroPadding(Layer):
    """Zeros added before and after each spatial axis (self.padding: one pair per axis)."""

    _spatial = ()  # names of the spatial axes

    def _layout(self):
        return _layout(self.data_format, ", ".join(self._spatial))

    def _pads(self):
        return self.padding if len(self._spatial) > 1 else (self.padding,)

    def compute_output_shape(self, input_shape):
        shape = list(_single(self, input_shape))
        _check_rank(self, shape, len(self._spatial) + 2, self._layout())
        for axis, (before, after) in zip(_spatial_axes(self.data_format, len(self._spatial)), self._pads()):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def call(self, inputs):
        _check_rank(self, inputs.shape, len(self._spatial) + 2, self._layout())
        widths = [(0, 0)] * inputs.ndim
        for axis, pair in zip(_spatial_axes(self.data_format, len(self._spatial)), self._pads()):
            widths[axis] = pair
        return ops.pad(inputs, widths)

    def get_config(self):
        return dict(super().get_config(), padding=self.padding, data_format=self.data_format)


@register
class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps of (batch, steps, channels) inputs. padding: an int
    (both sides) or a pair (before, after)."""

    _spatial = ("steps",)

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _spatial.data_format("ZeroPadding1D", data_format)
        self.padding = _int_tuple("ZeroPadding1D", "padding", padding, 2, True)


@register
class ZeroPadding2D(_ZeroPadding):
    """Rows and columns of zeros around images. padding: an int (every side), a pair (rows,
    cols) for both sides of each, or ((top, bottom), (left, right))."""

    _spatial = ("rows", "cols")

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _spatial.data_format("ZeroPadding2D", data_format)
        self.padding = _pairs_2d("ZeroPadding2D", "padding", padding)


# ---------------------------------------------------------------- cropping

def _cropped(layer, shape, axes, cropping):
    """shape with each axis in `axes` shortened by its cropping pair; a crop that leaves
    nothing of a known axis is a ValueError naming the layer, the shape and the cropping."""
    shape = list(shape)
    for axis, (before, after) in zip(axes, cropping):
        if shape[axis] is None:
            continue
        if before + after >= shape[axis]:
            raise ValueError(f"{layer.name} ({type(layer).__name__}): cropping {layer.cropping} must leave "
                             f"at least one element of axis {axis} (of size {shape[axis]}) of input shape "
                             f"{shape_str(tuple(shape))}")
        shape[axis] -= before + after
    return tuple(shape)


def _crop(x, axes, cropping):
    key = [slice(None)] * x.ndim
    for axis, (before, after) in zip(axes, cropping):
        key[axis] = slice(before, x.shape[axis] - after)
    return ops.getitem(x, tuple(key))  # a view


@register
class Cropping1D(Layer):
    """Trims steps off both ends of (batch, steps, channels) inputs (a view). cropping: an int
    (both ends) or a pair (start, end)."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _int_tuple("Cropping1D", "cropping", cropping, 2, True)

    def compute_output_shape(self, input_shape):
        shape = _single(self, input_shape)
        _check_rank(self, shape, 3, "(batch, steps, channels)")
        return _cropped(self, shape, (1,), (self.cropping,))

    def call(self, inputs):
        _check_rank(self, inputs.shape, 3, "(batch, steps, channels)")
        _cropped(self, tuple(inputs.shape), (1,), (self.cropping,))
        return _crop(inputs, (1,), (self.cropping,))

    def get_config(self):
        return dict(super().get_config(), cropping=self.cropping)


@register
class Cropping2D(Layer):
    """Trims rows and columns off the sides of images (a view). cropping: an int (every side),
    a pair (rows, cols) for both sides of each, or ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _spatial.data_format("Cropping2D", data_format)
        self.cropping = _pairs_2d("Cropping2D", "cropping", cropping)

    def compute_output_shape(self, input_shape):
        shape = _single(self, input_shape)
        _check_rank(self, shape, 4, _layout(self.data_format, "rows, cols"))
        return _cropped(self, shape, _spatial_axes(self.data_format, 2), self.cropping)

    def call(self, inputs):
        _check_rank(self, inputs.shape, 4, _layout(self.data_format, "rows, cols"))
        axes = _spatial_axes(self.data_format, 2)
        _cropped(self, tuple(inputs.shape), axes, self.cropping)
        return _crop(inputs, axes, self.cropping)

    def get_config(self):
        return dict(super().get_config(), cropping=self.cropping, data_format=self.data_format)


# ---------------------------------------------------------------- upsampling

def _repeat(x, factors):
    """x with each element repeated factors[axis] times along each axis in `factors` (a dict),
    NumPy's repeat: a size-1 axis after each repeated one is broadcast, then merged by a
    reshape (one copy; its gradient sums the copies back)."""
    expanded, broadcast, merged = [], [], []
    for axis, n in enumerate(x.shape):
        expanded.append(n)
        broadcast.append(n)
        if axis in factors:
            expanded.append(1)
            broadcast.append(factors[axis])
            merged.append(n * factors[axis])
        else:
            merged.append(n)
    if all(f == 1 for f in factors.values()):
        return x
    y = ops.broadcast_to(ops.reshape(x, tuple(expanded)), tuple(broadcast))
    return ops.reshape(y, tuple(merged))


_INTERPOLATIONS = ("nearest", "bilinear")
_KERAS_ONLY_INTERPOLATIONS = ("bicubic", "lanczos3", "lanczos5", "area")


@functools.lru_cache(maxsize=64)
def _bilinear_weights(n, factor, dtype_code):
    """The (n, n * factor) matrix of jax.image.resize's "bilinear" (what Keras 3's UpSampling2D
    uses; antialiasing only changes downsampling): output o samples the input at
    (o + 0.5) / factor - 0.5 (half-pixel centres) with the triangle kernel, each column
    normalised to sum 1, so the edges repeat. A constant of any captured plan."""
    out = n * factor
    src = (np.arange(out) + 0.5) / factor - 0.5
    w = np.maximum(0.0, 1.0 - np.abs(src[None, :] - np.arange(n)[:, None]))
    w /= w.sum(axis=0, keepdims=True)
    from ..dtypes import BY_CODE

    return _core._copy_from(w.astype(BY_CODE[dtype_code].dtype))


def _matmul_const(x, w, left):
    """w @ x (left) or x @ w with w a constant matrix: one GEMM, and a backward that computes
    only x's gradient (w takes none)."""
    y = _core.matmul(w, x) if left else _core.matmul(x, w)
    if ops._recording():
        wt = ops.transpose(w)
        record(lambda g, ins, out, _: (ops.matmul(wt, g) if left else ops.matmul(g, wt),), (x,), y)
    return y


def _bilinear(x, data_format, rows, cols):
    """Bilinear upsampling of a 4-D x by integer factors: one constant GEMM per axis."""
    if data_format == "channels_first":
        n, c, h, w = x.shape
        y = ops.reshape(x, (n * c, h, w))
        if rows != 1:
            y = _matmul_const(y, ops.transpose(_bilinear_weights(h, rows, x._dtype_code)), True)
        if cols != 1:
            y = _matmul_const(y, _bilinear_weights(w, cols, x._dtype_code), False)
        return ops.reshape(y, (n, c, h * rows, w * cols))
    n, h, w, c = x.shape
    y = x
    if rows != 1:  # (rows out, rows) @ (n, rows, cols * c)
        y = _matmul_const(ops.reshape(y, (n, h, w * c)),
                          ops.transpose(_bilinear_weights(h, rows, x._dtype_code)), True)
    if cols != 1:  # (cols out, cols) @ (n * rows out, cols, c)
        y = _matmul_const(ops.reshape(y, (n * h * rows, w, c)),
                          ops.transpose(_bilinear_weights(w, cols, x._dtype_code)), True)
    return ops.reshape(y, (n, h * rows, w * cols, c))


@register
class UpSampling1D(Layer):
    """Repeats each step of (batch, steps, channels) inputs `size` times."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if _int(size) is None:
            raise TypeError(f"UpSampling1D: size must be an int, got {type(size).__name__} {size!r:.60}")
        if _int(size) <= 0:
            raise ValueError(f"UpSampling1D: size must be a positive int, got {size}")
        self.size = _int(size)

    def compute_output_shape(self, input_shape):
        shape = _single(self, input_shape)
        _check_rank(self, shape, 3, "(batch, steps, channels)")
        return (shape[0], None if shape[1] is None else shape[1] * self.size, shape[2])

    def call(self, inputs):
        _check_rank(self, inputs.shape, 3, "(batch, steps, channels)")
        return _repeat(inputs, {1: self.size})

    def get_config(self):
        return dict(super().get_config(), size=self.size)


@register
class UpSampling2D(Layer):
    """Upsamples images by integer factors size=(rows, cols) (an int: both). interpolation:
    "nearest" repeats rows and columns; "bilinear" interpolates as Keras 3 does
    (jax.image.resize: half-pixel centres, edges repeated)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = _spatial.data_format("UpSampling2D", data_format)
        self.size = _int_tuple("UpSampling2D", "size", size, 2, False)
        if not isinstance(interpolation, str):
            raise TypeError(f"UpSampling2D: interpolation must be a string, got "
                            f"{type(interpolation).__name__}")
        self.interpolation = interpolation.lower()
        if self.interpolation in _KERAS_ONLY_INTERPOLATIONS:
            raise NotImplementedError(f"UpSampling2D: interpolation {interpolation!r} is not implemented in "
                                      f"pynn; use one of {list(_INTERPOLATIONS)}")
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"UpSampling2D: interpolation must be one of "
                             f"{list(_INTERPOLATIONS + _KERAS_ONLY_INTERPOLATIONS)}, got {interpolation!r}")

    def _layout(self):
        return _layout(self.data_format, "rows, cols")

    def compute_output_shape(self, input_shape):
        shape = list(_single(self, input_shape))
        _check_rank(self, shape, 4, self._layout())
        for axis, factor in zip(_spatial_axes(self.data_format, 2), self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def call(self, inputs):
        _check_rank(self, inputs.shape, 4, self._layout())
        if self.interpolation == "bilinear":
            return _bilinear(inputs, self.data_format, *self.size)
        return _repeat(inputs, dict(zip(_spatial_axes(self.data_format, 2), self.size)))

    def get_config(self):
        return dict(super().get_config(), size=self.size, data_format=self.data_format,
                    interpolation=self.interpolation)


# ---------------------------------------------------------------- axes

@register
class Permute(Layer):
    """Permutes the axes of each sample (a view): dims numbers them from 1 (the batch axis
    stays first), e.g. (2, 1) swaps the two axes of (batch, steps, channels) inputs."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(_int(d) for d in dims)
        except TypeError:
            raise TypeError(f"Permute: dims must be a sequence of ints, got {type(dims).__name__}") from None
        if sorted(d if d is not None else -1 for d in dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(dims)} (the sample axes, "
                             f"counted from 1), got {dims}")
        self.dims = dims

    def _check(self, shape):
        _check_rank(self, shape, len(self.dims) + 1,
                    f"(the batch and the {len(self.dims)} axes dims={self.dims} permutes)")

    def compute_output_shape(self, input_shape):
        shape = _single(self, input_shape)
        self._check(shape)
        return (shape[0],) + tuple(shape[d] for d in self.dims)

    def call(self, inputs):
        self._check(inputs.shape)
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self):
        return dict(super().get_config(), dims=self.dims)


@register
class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): each sample repeated n times."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if _int(n) is None:
            raise TypeError(f"RepeatVector: n must be an int, got {type(n).__name__} {n!r:.60}")
        if _int(n) <= 0:
            raise ValueError(f"RepeatVector: n must be a positive int, got {n}")
        self.n = _int(n)

    def compute_output_shape(self, input_shape):
        shape = _single(self, input_shape)
        _check_rank(self, shape, 2, "(batch, features)")
        return (shape[0], self.n, shape[1])

    def call(self, inputs):
        _check_rank(self, inputs.shape, 2, "(batch, features)")
        b, f = inputs.shape
        y = ops.broadcast_to(ops.reshape(inputs, (b, 1, f)), (b, self.n, f))
        return ops.reshape(ops.reshape(y, (b, self.n * f)), (b, self.n, f))  # a copy, then a view of it

    def get_config(self):
        return dict(super().get_config(), n=self.n)

