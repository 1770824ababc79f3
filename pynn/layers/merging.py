"""Merge layers (Keras 3): Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
and their function forms add(...), subtract(...), ..., dot(...): each takes a list of tensors."""

import math

from .. import ops
from .base import Layer, register, shape_str

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _broadcast(name, shapes):
    """The broadcast of the input shapes (None: unknown, as the batch axis), or a ValueError."""
    nd = max(len(s) for s in shapes)
    out = []
    for k in range(nd):
        dims = {s[k - nd + len(s)] for s in shapes if k - nd + len(s) >= 0} - {1}
        if None in dims:
            dims.discard(None)
            out.append(dims.pop() if len(dims) == 1 else None)
            continue
        if len(dims) > 1:
            raise ValueError(f"{name}: inputs with shapes {', '.join(shape_str(s) for s in shapes)} cannot be "
                             f"broadcast together")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


class _Merge(Layer):
    """The element-wise merge of a list of at least two inputs of broadcastable shapes."""

    _exactly = None  # the number of inputs a layer takes exactly (Subtract: 2)

    def _check(self, shapes):
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise ValueError(f"{self.name} ({type(self).__name__}): expects a list of at least 2 inputs, got "
                             f"{len(shapes) if isinstance(shapes, list) else 'one'}")
        if self._exactly and len(shapes) != self._exactly:
            raise ValueError(f"{self.name} ({type(self).__name__}): expects exactly {self._exactly} inputs, got "
                             f"{len(shapes)}")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # the checks

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return _broadcast(f"{self.name} ({type(self).__name__})", [tuple(s) for s in input_shape])

    def call(self, inputs):
        self._check(list(inputs))
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out


@register
class Add(_Merge):
    """The sum of the inputs."""

    _merge = staticmethod(ops.add)


@register
class Subtract(_Merge):
    """inputs[0] - inputs[1] (exactly two inputs)."""

    _exactly = 2

    _merge = staticmethod(ops.subtract)


@register
class Multiply(_Merge):
    """The element-wise product of the inputs."""

    _merge = staticmethod(ops.multiply)


@register
class Average(_Merge):
    """The element-wise mean of the inputs (their sum divided by their number)."""

    _merge = staticmethod(ops.add)

    def _finish(self, out, n):
        return ops.divide(out, n)


@register
class Maximum(_Merge):
    """The element-wise maximum of the inputs."""

    _merge = staticmethod(ops.maximum)


@register
class Minimum(_Merge):
    """The element-wise minimum of the inputs."""

    _merge = staticmethod(ops.minimum)


@register
class Concatenate(Layer):
    """The inputs joined along `axis` (default the last); the other axes must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Concatenate: axis must be an int, got {axis!r}")
        self.axis = axis

    def _shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 1:
            raise ValueError(f"{self.name} (Concatenate): expects a list of inputs")
        shapes = [tuple(s) for s in input_shape]
        nd = len(shapes[0])
        if not -nd <= self.axis < nd:
            raise ValueError(f"{self.name} (Concatenate): axis {self.axis} is out of range for inputs of rank {nd}")
        axis = self.axis % nd
        for s in shapes[1:]:
            if len(s) != nd or any(a is not None and b is not None and a != b
                                   for k, (a, b) in enumerate(zip(s, shapes[0])) if k != axis):
                raise ValueError(f"{self.name} (Concatenate): inputs must match except along axis {self.axis}, got "
                                 f"shapes {', '.join(shape_str(t) for t in shapes)}")
        joined = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        return shapes[0][:axis] + (joined,) + shapes[0][axis + 1:]

    def build(self, input_shape):
        self._shape(input_shape)

    def compute_output_shape(self, input_shape):
        return self._shape(input_shape)

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return dict(super().get_config(), axis=self.axis)


def _dot_axes(layer, axes, shapes):
    """Keras' Dot axes as a pair of non-negative axes of the two inputs, checked."""
    if isinstance(axes, int):
        pair = [axes % len(s) if axes < 0 else axes for s in shapes]
    else:
        pair = [a % len(s) if a < 0 else a for a, s in zip(axes, shapes)]
    for a, s in zip(pair, shapes):
        if a >= len(s):
            raise ValueError(f"{layer}: axes={axes} is out of range for inputs of shapes "
                             f"{', '.join(shape_str(t) for t in shapes)}")
    if 0 in pair:
        raise ValueError(f"{layer}: cannot take the dot product over axis 0 (the batch axis), got axes={axes}")
    return pair


def _l2_normalize(x, axis):
    """x / max(||x||, 1e-7) along axis, as keras.utils.normalize on a tensor (order 2)."""
    square_sum = ops.sum(ops.multiply(x, x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, 1e-14)))


@register
class Dot(Layer):
    """The dot product of the samples of two inputs along an axis of each, as Keras 3's Dot.

    axes: an int (the same axis of both inputs; a negative one counts from each input's end)
    or a pair (axis of the first, axis of the second); never 0, the batch axis. The result
    has the first input's axes less the summed one, then the second's less the batch and the
    summed one, and shape (batch, 1) when that leaves only the batch axis (2-D inputs).
    normalize=True L2-normalizes both inputs along their axis first (the cosine proximity).
    Built from pynn ops (transpose, reshape, a batched matmul), so it differentiates and
    captured steps record it.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, bool) or not isinstance(axes, (int, list, tuple)):
            raise TypeError(f"Dot: axes must be an int or a list of two ints, got axes={axes!r}")
        if not isinstance(axes, int):
            if len(axes) != 2:
                raise ValueError(f"Dot: axes must hold two elements (one per input), got axes={axes!r}")
            if any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
                raise ValueError(f"Dot: axes must hold ints, got axes={axes!r}")
            axes = tuple(axes)
        self.axes = axes
        self.normalize = bool(normalize)

    def _check(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) != 2 or \
                not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"{self.name} (Dot): expects a list of 2 inputs, got "
                             f"{len(shapes) if isinstance(shapes, list) else 'one'}")
        shapes = [tuple(s) for s in shapes]
        for s in shapes:
            if len(s) < 2:
                raise ValueError(f"{self.name} (Dot): inputs must have rank >= 2 (a batch axis and more), got shapes "
                                 f"{', '.join(shape_str(t) for t in shapes)}")
        b1, b2 = shapes[0][0], shapes[1][0]
        if b1 is not None and b2 is not None and b1 != b2:
            raise ValueError(f"{self.name} (Dot): the inputs have different batch sizes: shapes "
                             f"{', '.join(shape_str(t) for t in shapes)}")
        a0, a1 = _dot_axes(f"{self.name} (Dot)", self.axes, shapes)
        d1, d2 = shapes[0][a0], shapes[1][a1]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"{self.name} (Dot): incompatible input shapes: axis {a0} of the first has size {d1}, "
                             f"axis {a1} of the second has size {d2} (shapes "
                             f"{', '.join(shape_str(t) for t in shapes)})")
        return shapes, (a0, a1)

    def build(self, input_shape):
        self._check(input_shape)

    def compute_output_shape(self, input_shape):
        (s1, s2), (a0, a1) = self._check(input_shape)
        out = s1[:a0] + s1[a0 + 1:] + s2[1:a1] + s2[a1 + 1:]
        return out + (1,) if len(out) == 1 else out

    def call(self, inputs):
        inputs = list(inputs)
        (s1, s2), (a0, a1) = self._check([tuple(x.shape) for x in inputs])
        x, y = inputs
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        # x as (batch, rows, k) with its summed axis last; y as (batch, k, cols) with it second.
        x = ops.transpose(x, tuple(i for i in range(x.ndim) if i != a0) + (a0,))
        y = ops.transpose(y, (0, a1) + tuple(i for i in range(1, y.ndim) if i != a1))
        rows, cols = x.shape[1:-1], y.shape[2:]
        k, batch = x.shape[-1], x.shape[0]
        out = ops.matmul(ops.reshape(x, (batch, math.prod(rows), k)), ops.reshape(y, (batch, k, math.prod(cols))))
        shape = (batch,) + rows + cols
        return ops.reshape(out, shape if len(shape) > 1 else (batch, 1))

    def get_config(self):
        return dict(super().get_config(), axes=self.axes if isinstance(self.axes, int) else list(self.axes),
                    normalize=self.normalize)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Dot(axes, normalize, **kwargs)(inputs): the dot product of the samples of two inputs."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


def _function(cls):
    def fn(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    fn.__name__ = fn.__qualname__ = cls.__name__.lower()
    fn.__doc__ = f"{cls.__name__}(**kwargs)(inputs): {cls.__doc__}"
    return fn


add, subtract, multiply, average, maximum, minimum, concatenate = (
    _function(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))
