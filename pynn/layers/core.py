"""The core layers: Input, Dense, Activation, ReLU, Softmax, Flatten, Reshape, Dropout."""

import math

import numpy as np

from .. import _capture, _core, _spatial, activations, constraints, initializers, ops, regularizers
from .. import random as _random
from ..dtypes import as_dtype
from ..tensor import from_numpy
from .base import KerasTensor, Layer, Node, check_real, register, shape_str

__all__ = ["InputLayer", "Input", "Dense", "Activation", "ReLU", "Softmax", "Flatten", "Reshape", "Dropout"]


def _single(layer, input_shape):
    if isinstance(input_shape, list):
        raise ValueError(f"{layer.name} ({type(layer).__name__}) takes one input, got {len(input_shape)}")
    return tuple(input_shape)


@register
class InputLayer(Layer):
    """The entry of a model: holds the symbolic tensor Input() returns. shape excludes the batch,
    batch_shape includes it (Keras' arguments; see Input for those pynn does not support)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
                 optional=False, **kwargs):
        if "input_shape" in kwargs:  # Keras' deprecated spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        for what, given in (("sparse=True", sparse), ("ragged=True", kwargs.pop("ragged", None)),
                            ("optional=True", optional), ("tensor=", kwargs.pop("input_tensor", None) is not None)):
            if given:
                _unsupported(what)
        if shape is not None and batch_shape is not None:
            raise ValueError("InputLayer: you cannot pass both `shape` and `batch_shape` at the same time")
        if batch_size is not None and batch_shape is not None:
            raise ValueError("InputLayer: you cannot pass both `batch_size` and `batch_shape` at the same time")
        if batch_shape is not None:
            if isinstance(batch_shape, int) or len(tuple(batch_shape)) < 1:
                raise ValueError(f"InputLayer: batch_shape must be a tuple starting with the batch size, got "
                                 f"{batch_shape!r}")
            batch_shape = tuple(batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
            if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                           or batch_size < 0):
                raise ValueError(f"InputLayer: the batch size must be a non-negative int or None, got "
                                 f"batch_shape={batch_shape}")
        if shape is None:
            raise ValueError("InputLayer: give the input shape without the batch, e.g. Input(shape=(784,)), or "
                             "batch_shape= with it")
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(shape)
        if any(d is not None and (not isinstance(d, int) or d < 0) for d in shape):
            raise ValueError(f"InputLayer: shape must hold non-negative ints or None, got {shape}")
        super().__init__(name=name, **kwargs)
        self.dtype = as_dtype(dtype or "float32", "Input")  # any dtype: an input need not be a float
        self.batch_shape = (batch_size,) + shape
        self.built = True
        self.input_shape = self.output_shape = self.batch_shape
        node = Node(self, [], None)
        node.outputs = KerasTensor(self.batch_shape, self.dtype, self.name, node)
        self._inbound_nodes.append(node)
        self.output = node.outputs

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype.name, "sparse": False, "name": self.name,
                "optional": False}


def _unsupported(what):
    raise NotImplementedError(f"Input: {what} is not supported by pynn's functional API (dense inputs that are "
                              f"always given only)")


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False):
    """The symbolic input of a functional model: ``x = Input(shape=(784,))``, as Keras 3.

    shape excludes the batch axis; batch_shape (exclusive with shape and batch_size) includes
    it. sparse=True, optional=True (an input that may be None) and tensor= are Keras options
    pynn does not support: they raise NotImplementedError rather than being ignored."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                      name=name, optional=optional, input_tensor=tensor).output


# activation functions the fused dense kernel applies itself; softmax and sigmoid go through
# activations.py so their output keeps the logits (Note [Logits behind probabilities]).
_FUSED = {activations.linear: None, activations.relu: "relu", activations.tanh: "tanh"}


@register
class Dense(Layer):
    """activation(inputs @ kernel + bias) over the last axis: kernel (in, units), bias (units,).

    Runs as one fused C++ layer (GEMM onto the bias, activation in place; Note [Dense
    layer] in csrc/kernels/nn.h) with one fused backward. kernel_regularizer /
    bias_regularizer / activity_regularizer add penalties to `losses`; kernel_constraint /
    bias_constraint project the weights after each optimizer update (Note [Layer losses]).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_shape = _single(self, input_shape)
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(f"{self.name} (Dense): the last axis of the input must be known, got input shape "
                             f"{shape_str(input_shape)}")
        self.kernel = self.add_weight((input_shape[-1], self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs):
        x = inputs
        if x.ndim < 1 or x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name} (Dense): input shape {x.shape} does not match the kernel of shape "
                             f"{self.kernel.shape} (the last axis must be {self.kernel.shape[0]})")
        lead = x.shape[:-1]
        if x.ndim != 2:
            x = ops.reshape(x, (math.prod(lead), x.shape[-1]))
        if self.activation in _FUSED:
            y = ops.dense(x, self.kernel, self.bias, _FUSED[self.activation])
        elif getattr(self.activation, "_fused", None) is not None:  # a registry activation, in the epilogue
            y = ops.dense(x, self.kernel, self.bias, self.activation._fused)
        else:
            y = self.activation(ops.dense(x, self.kernel, self.bias, None))
        return y if len(lead) == 1 else ops.reshape(y, lead + (self.units,))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return dict(super().get_config(), units=self.units, activation=activations.serialize(self.activation),
                    use_bias=self.use_bias, kernel_initializer=initializers.serialize(self.kernel_initializer),
                    bias_initializer=initializers.serialize(self.bias_initializer),
                    kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                    bias_regularizer=regularizers.serialize(self.bias_regularizer),
                    kernel_constraint=constraints.serialize(self.kernel_constraint),
                    bias_constraint=constraints.serialize(self.bias_constraint))


@register
class Activation(Layer):
    """Applies an activation function by name or callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), activation=activations.serialize(self.activation))


@register
class ReLU(Layer):
    """max(x, 0) by default; Keras' options: x >= threshold keeps x, else negative_slope * (x -
    threshold); the result is capped at max_value."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        check_real("ReLU", "max_value", max_value, allow_none=True)
        check_real("ReLU", "negative_slope", negative_slope)
        check_real("ReLU", "threshold", threshold)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be >= 0, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be >= 0, got {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, float(negative_slope), float(threshold)

    def call(self, inputs):
        x = inputs
        if self.negative_slope == 0 and self.threshold == 0:
            y = ops.relu(x)
        else:
            y = ops.where(ops.greater_equal(x, self.threshold), x,
                          ops.multiply(ops.subtract(x, self.threshold), self.negative_slope))
        return y if self.max_value is None else ops.minimum(y, self.max_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), max_value=self.max_value, negative_slope=self.negative_slope,
                    threshold=self.threshold)


@register
class Softmax(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        return activations.softmax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), axis=self.axis)


@register
class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...), a view when the input is contiguous.
    data_format="channels_first": (batch, channels, d1, ...) is read as Keras 3 does, with the
    channels moved last before flattening, so the result matches the channels_last layout."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _spatial.data_format("Flatten", data_format)

    def call(self, inputs):
        if inputs.ndim < 1:
            raise ValueError(f"{self.name} (Flatten): expects inputs with a batch axis, got a 0-d tensor")
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        input_shape = _single(self, input_shape)
        if len(input_shape) < 1:
            raise ValueError(f"{self.name} (Flatten): expects inputs with a batch axis, got shape ()")
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def get_config(self):
        return dict(super().get_config(), data_format=self.data_format)


@register
class Reshape(Layer):
    """Reshapes each sample to target_shape (which excludes the batch; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = _random._bounded_tuple(target_shape, "Reshape", "target_shape")
        if sum(d == -1 for d in target_shape) > 1 or any(not isinstance(d, int) or d < -1 for d in target_shape):
            raise ValueError(f"Reshape: target_shape must hold positive ints and at most one -1, got {target_shape}")
        self.target_shape = target_shape

    def _resolve(self, sample_shape):
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(f"{self.name} (Reshape): cannot reshape samples of shape {shape_str(sample_shape)} "
                                 f"to {shape_str(self.target_shape)}")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError(f"{self.name} (Reshape): cannot reshape samples of shape {shape_str(sample_shape)} "
                             f"({size} values) to {shape_str(self.target_shape)} ({known} values)")
        return self.target_shape

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        if None in input_shape[1:]:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._resolve(input_shape[1:])

    def get_config(self):
        return dict(super().get_config(), target_shape=list(self.target_shape))


@register
class Dropout(Layer):
    """Inverted dropout: in training each element is zeroed with probability `rate` and the
    rest scaled by 1 / (1 - rate); at inference it is the identity. noise_shape (with None
    for the input's size) shares one mask along the axes of size 1. Masks come from pynn's
    generator (Note [One random generator]) or from `seed`."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator = None if seed is None else _random.get_generator(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != len(shape):
                raise ValueError(f"{self.name} (Dropout): noise_shape {self.noise_shape} does not match the input "
                                 f"shape {shape}")
            shape = tuple(s if n is None else n for s, n in zip(shape, self.noise_shape))
        # The key is drawn per call: a host input, drawn again before each replay of a captured step.
        key = _capture.host_input(lambda: _random._draw_key(self._generator), np.int64)
        if shape == inputs.shape:
            return ops.dropout(inputs, self.rate, key)
        mask = ops.dropout(_core._full(shape, 1, inputs._dtype_code), self.rate, key)  # shared along noise axes
        return ops.multiply(inputs, mask)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), rate=self.rate,
                    noise_shape=None if self.noise_shape is None else list(self.noise_shape), seed=self.seed)
