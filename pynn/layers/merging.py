"""Merge layers (Keras 3): Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, and
their function forms add(...), subtract(...), ...: each takes a list of tensors."""

from .. import ops
from .base import Layer, register, shape_str

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]


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


def _function(cls):
    def fn(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    fn.__name__ = fn.__qualname__ = cls.__name__.lower()
    fn.__doc__ = f"{cls.__name__}(**kwargs)(inputs): {cls.__doc__}"
    return fn


add, subtract, multiply, average, maximum, minimum, concatenate = (
    _function(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))
