"""Pooling layers (Keras 3): MaxPooling1D/2D, AveragePooling1D/2D (one C++ op each way, Note [Pooling] in
csrc/kernels/pool.h), GlobalMaxPooling1D/2D and GlobalAveragePooling1D/2D (reductions over the spatial axes),
with Keras' short names MaxPool2D, AvgPool2D, GlobalAvgPool2D, ..."""

from .. import _spatial, ops
from .base import Layer, register, shape_str

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D"]


def _check_rank(layer, shape, ndim):
    if len(shape) != ndim:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expected an input of rank {ndim} (batch, "
                         f"{'steps' if ndim == 3 else 'height, width'}, channels), got shape {shape_str(shape)}")


class _Pooling(Layer):
    """Max or average pooling over `_dims` spatial axes: the op's arguments, checked here (Keras builds pooling
    layers at construction: they have no weights)."""

    _dims = None
    _op = None  # ops.max_pool or ops.average_pool

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        op = type(self).__name__
        self.pool_size = _spatial.int_tuple(op, "pool_size", pool_size, self._dims)
        self.strides = self.pool_size if strides is None else _spatial.int_tuple(op, "strides", strides,
                                                                                     self._dims)
        self.padding = _spatial.padding(op, padding)
        self.data_format = _spatial.data_format(op, data_format)
        self.built = True

    def call(self, inputs):
        _check_rank(self, inputs.shape, self._dims + 2)
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        """Keras' compute_pooling_output_shape: None (unknown) sizes stay None."""
        shape = tuple(input_shape)
        _check_rank(self, shape, self._dims + 2)
        first = 1 if self.data_format == "channels_last" else 2
        out = list(shape)
        for i in range(self._dims):
            size = shape[first + i]
            if size is not None:
                out[first + i] = _spatial.axis_extent(f"{self.name} ({type(self).__name__})", size, self.pool_size[i],
                                                  self.strides[i], self.padding, shape_str(shape))[0]
        return tuple(out)

    def get_config(self):
        return dict(super().get_config(), pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                    data_format=self.data_format)


@register
class MaxPooling1D(_Pooling):
    """The largest value of each window of `pool_size` steps, moved by `strides` (default: pool_size), per
    channel of a (batch, steps, channels) input ((batch, channels, steps) for channels_first). padding
    "valid" (out = (steps - pool_size) // strides + 1) or "same" (out = ceil(steps / strides))."""

    _dims = 1
    _op = staticmethod(ops.max_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class MaxPooling2D(_Pooling):
    """The largest value of each (pool_height, pool_width) window per channel of a (batch, height, width,
    channels) input ((batch, channels, height, width) for channels_first); MaxPooling1D's arguments, per axis."""

    _dims = 2
    _op = staticmethod(ops.max_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class AveragePooling1D(_Pooling):
    """The mean of each window of `pool_size` steps (MaxPooling1D's arguments); with "same" padding a window
    at the border averages only the input values it holds."""

    _dims = 1
    _op = staticmethod(ops.average_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class AveragePooling2D(_Pooling):
    """The mean of each (pool_height, pool_width) window (MaxPooling2D's arguments); with "same" padding a
    window at the border averages only the input values it holds."""

    _dims = 2
    _op = staticmethod(ops.average_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """A reduction over all `_dims` spatial axes: (batch, channels), or with keepdims the input's rank with
    size-1 spatial axes."""

    _dims = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _spatial.data_format(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)
        self.built = True

    def _axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._dims))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        _check_rank(self, shape, self._dims + 2)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    def get_config(self):
        return dict(super().get_config(), data_format=self.data_format, keepdims=self.keepdims)


@register
class GlobalMaxPooling1D(_GlobalPooling):
    """The largest value over the steps of each channel."""

    _dims = 1

    def call(self, inputs):
        _check_rank(self, inputs.shape, 3)
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


@register
class GlobalMaxPooling2D(_GlobalPooling):
    """The largest value over height and width of each channel."""

    _dims = 2

    def call(self, inputs):
        _check_rank(self, inputs.shape, 4)
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


@register
class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps of each channel. mask (batch, steps), optional: the mean of the steps where it
    is nonzero, as in Keras."""

    _dims = 1

    def call(self, inputs, mask=None):
        _check_rank(self, inputs.shape, 3)
        axis = self._axes()
        if mask is None:
            return ops.mean(inputs, axis=axis, keepdims=self.keepdims)
        mask = ops._as_tensor(mask, f"{self.name} (GlobalAveragePooling1D): mask")
        if tuple(mask.shape) != (inputs.shape[0], inputs.shape[axis[0]]):
            raise ValueError(f"{self.name} (GlobalAveragePooling1D): mask of shape {shape_str(mask.shape)} does "
                             f"not match the input of shape {shape_str(inputs.shape)} (expected (batch, steps))")
        keep = ops.not_equal(ops.expand_dims(mask, 2 if self.data_format == "channels_last" else 1), 0)
        total = ops.sum(ops.where(keep, inputs, 0), axis=axis, keepdims=self.keepdims)
        count = ops.sum(keep.astype(inputs.dtype), axis=axis, keepdims=self.keepdims)
        return ops.divide(total, count)


@register
class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width of each channel."""

    _dims = 2

    def call(self, inputs):
        _check_rank(self, inputs.shape, 4)
        return ops.mean(inputs, axis=self._axes(), keepdims=self.keepdims)


# Keras 3's short names: the same classes.
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
