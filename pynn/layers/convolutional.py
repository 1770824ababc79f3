"""Convolution layers with Keras 3's names, arguments and weights (Note [Convolution] in csrc/kernels/conv.h).

Conv1D, Conv2D, their Transpose forms, DepthwiseConv1D/2D and SeparableConv1D/2D all
run on pynn.ops' fused convolutions: the bias and relu / sigmoid / tanh go into the
GEMM's epilogue, any other activation runs after.
"""

from .. import _conv, _spatial, activations, constraints, initializers, ops, regularizers
from .base import Layer, register, shape_str

_FUSED = {activations.linear: None, activations.relu: "relu", activations.tanh: "tanh",
          activations.sigmoid: "sigmoid"}


class _BaseConv(Layer):
    """What the convolution layers share: argument checks, the channel axis, the bias and the
    activation (fused when it can be), output shapes, regularizers and constraints (the kernel's
    are the depthwise kernel's for the depthwise and separable layers) and get_config."""

    _rank = 2
    _kind = "conv"  # "conv", "transpose", "depthwise", "separable"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls, rank = type(self).__name__, self._rank
        if filters is not None and (not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0):
            raise ValueError(f"{cls}: filters must be a positive int, got {filters!r}")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{cls}: groups must be a positive int, got {groups!r}")
        if filters is not None and filters % groups:
            raise ValueError(f"{cls}: filters ({filters}) must be divisible by groups ({groups})")
        self.filters, self.groups = filters, groups
        self.kernel_size = _spatial.int_tuple(cls, "kernel_size", kernel_size, rank)
        self.strides = _spatial.int_tuple(cls, "strides", strides, rank)
        self.dilation_rate = _spatial.int_tuple(cls, "dilation_rate", dilation_rate, rank)
        self.padding = _spatial.padding(cls, padding, ("valid", "same", "causal") if rank == 1 and self._kind == "conv"
                                        else ("valid", "same"))
        self.data_format = _spatial.data_format(cls, data_format)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{cls}: strides > 1 together with dilation_rate > 1 is not supported (as in Keras), "
                             f"got strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.bias = None

    # ---- shapes ----
    def _channels(self, input_shape):
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def _check_input_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self._rank + 2:
            raise ValueError(f"{self.name} ({type(self).__name__}): expected a {self._rank + 2}-D input, got shape "
                             f"{shape_str(input_shape)}")
        channels = self._channels(input_shape)
        if channels is None:
            raise ValueError(f"{self.name} ({type(self).__name__}): the channel axis of the input must be known, got "
                             f"input shape {shape_str(input_shape)}")
        return input_shape, channels

    def _spatial(self, input_shape):
        return input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]

    def _out_channels(self, channels):
        return self.filters

    def _out_spatial(self, spatial, input_shape):
        op = f"{self.name} ({type(self).__name__})"
        return [None if n is None else _spatial.axis_extent(op, n, k, s, self.padding, shape_str(input_shape), d)[0]
                for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]

    def compute_output_shape(self, input_shape):
        input_shape, channels = self._check_input_shape(input_shape)
        out = self._out_spatial(self._spatial(input_shape), input_shape)
        f = self._out_channels(channels)
        return ((input_shape[0],) + tuple(out) + (f,) if self.data_format == "channels_last"
                else (input_shape[0], f) + tuple(out))

    # ---- the call ----
    def _fused(self):
        """(the activation name the kernel fuses or None, whether the activation runs after)."""
        if self.activation in _FUSED:
            return _FUSED[self.activation], False
        return None, True

    def _finish(self, y, after):
        return self.activation(y) if after else y

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                    padding=self.padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
                    groups=self.groups, activation=activations.serialize(self.activation), use_bias=self.use_bias,
                    kernel_initializer=initializers.serialize(self.kernel_initializer),
                    bias_initializer=initializers.serialize(self.bias_initializer),
                    kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                    bias_regularizer=regularizers.serialize(self.bias_regularizer),
                    activity_regularizer=regularizers.serialize(self.activity_regularizer),
                    kernel_constraint=constraints.serialize(self.kernel_constraint),
                    bias_constraint=constraints.serialize(self.bias_constraint))

    def _kernel_weight(self, shape, name="kernel"):
        return self.add_weight(shape, self.kernel_initializer, name=name, regularizer=self.kernel_regularizer,
                               constraint=self.kernel_constraint)

    def _bias_weight(self, shape):
        return self.add_weight(shape, self.bias_initializer, name="bias", regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)


class _Conv(_BaseConv):
    def build(self, input_shape):
        input_shape, channels = self._check_input_shape(input_shape)
        if channels % self.groups:
            raise ValueError(f"{self.name} ({type(self).__name__}): the input's {channels} channels (input shape "
                             f"{shape_str(input_shape)}) are not divisible by groups={self.groups}")
        self.compute_output_shape(input_shape)  # checks the output size
        self.kernel = self._kernel_weight(self.kernel_size + (channels // self.groups, self.filters))
        if self.use_bias:
            self.bias = self._bias_weight((self.filters,))

    def call(self, inputs):
        act, after = self._fused()
        fn = ops.conv1d if self._rank == 1 else ops.conv2d
        y = fn(inputs, self.kernel, self.bias, strides=self.strides, padding=self.padding,
               dilation_rate=self.dilation_rate, data_format=self.data_format, activation=act)
        return self._finish(y, after)


@register
class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) (channels_first: (batch, channels, steps)); kernel
    (kernel_size, channels // groups, filters); padding "valid", "same" or "causal"."""

    _rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, **kwargs)


@register
class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) (channels_first: (batch, channels, height,
    width)); kernel (kh, kw, channels // groups, filters); padding "valid" or "same"."""

    _rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, **kwargs)


class _ConvTranspose(_BaseConv):
    _kind = "transpose"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         kernel_initializer, bias_initializer, **kwargs)
        cls = type(self).__name__
        self.output_padding = (None if output_padding is None
                               else _spatial.int_tuple(cls, "output_padding", output_padding, self._rank, minimum=0))
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{cls}: output_padding {self.output_padding} must be smaller than strides "
                             f"{self.strides}")

    def _out_spatial(self, spatial, input_shape):
        out = []
        for i, (n, k, s, d) in enumerate(zip(spatial, self.kernel_size, self.strides, self.dilation_rate)):
            if n is None:
                out.append(None)
                continue
            _, size = _conv._transpose_pads(type(self).__name__, self.padding, (n,), (k,), (s,), (d,),
                                            None if self.output_padding is None else (self.output_padding[i],))
            out.append(size[0])
        return out

    def build(self, input_shape):
        input_shape, channels = self._check_input_shape(input_shape)
        self.kernel = self._kernel_weight(self.kernel_size + (self.filters, channels))
        if self.use_bias:
            self.bias = self._bias_weight((self.filters,))

    def call(self, inputs):
        fn = ops.conv1d_transpose if self._rank == 1 else ops.conv2d_transpose
        y = fn(inputs, self.kernel, self.bias, strides=self.strides, padding=self.padding,
               output_padding=self.output_padding, dilation_rate=self.dilation_rate, data_format=self.data_format)
        return y if self.activation is activations.linear else self.activation(y)

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        return dict(config, output_padding=self.output_padding)


@register
class Conv1DTranspose(_ConvTranspose):
    """The transposed 1-D convolution; kernel (kernel_size, filters, channels)."""

    _rank = 1


@register
class Conv2DTranspose(_ConvTranspose):
    """The transposed 2-D convolution (the gradient of Conv2D for its input): kernel (kh, kw, filters,
    channels); output size (in - 1) * stride + max(kernel, stride) for "valid", in * stride for "same"."""

    _rank = 2


class _Depthwise(_BaseConv):
    """What the depthwise and separable layers share: depth_multiplier, the depthwise kernel's settings
    (kept in kernel_*, saved under Keras' depthwise_* names) and the 1-D form run as 2-D."""

    def _set_depth_multiplier(self, value):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{type(self).__name__}: depth_multiplier must be a positive int, got {value!r}")
        self.depth_multiplier = value

    def _as_2d(self, op, inputs, kernels, act):
        """op(inputs, *kernels, bias, ...) over 2-D; a 1-D layer's input and kernels get a height of 1."""
        if self._rank == 2:
            return op(inputs, *kernels, self.bias, strides=self.strides, padding=self.padding,
                      dilation_rate=self.dilation_rate, data_format=self.data_format, activation=act)
        axis = 1 if self.data_format == "channels_last" else 2
        y = op(ops.expand_dims(inputs, axis), *[ops.expand_dims(k, 0) for k in kernels], self.bias,
               strides=(1,) + self.strides, padding=self.padding, dilation_rate=(1,) + self.dilation_rate,
               data_format=self.data_format, activation=act)
        return ops.squeeze(y, axis)

    def get_config(self):
        config = super().get_config()
        for key in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            del config[key]
        return dict(config, depth_multiplier=self.depth_multiplier,
                    depthwise_initializer=initializers.serialize(self.kernel_initializer),
                    depthwise_regularizer=regularizers.serialize(self.kernel_regularizer),
                    depthwise_constraint=constraints.serialize(self.kernel_constraint))


class _DepthwiseConv(_Depthwise):
    _kind = "depthwise"

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self._set_depth_multiplier(depth_multiplier)

    def _out_channels(self, channels):
        return channels * self.depth_multiplier

    def build(self, input_shape):
        input_shape, channels = self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self._kernel_weight(self.kernel_size + (channels, self.depth_multiplier))
        if self.use_bias:
            self.bias = self._bias_weight((channels * self.depth_multiplier,))

    def call(self, inputs):
        act, after = self._fused()
        return self._finish(self._as_2d(ops.depthwise_conv2d, inputs, [self.kernel], act), after)

    def get_config(self):
        config = super().get_config()
        del config["filters"]
        return config


@register
class DepthwiseConv1D(_DepthwiseConv):
    """Each channel convolved with its own depth_multiplier filters; kernel (kernel_size, channels,
    depth_multiplier)."""

    _rank = 1


@register
class DepthwiseConv2D(_DepthwiseConv):
    """Each channel convolved with its own depth_multiplier filters; kernel (kh, kw, channels,
    depth_multiplier); output channel c * depth_multiplier + m."""

    _rank = 2


class _SeparableConv(_Depthwise):
    _kind = "separable"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self._set_depth_multiplier(depth_multiplier)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        input_shape, channels = self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self._kernel_weight(self.kernel_size + (channels, self.depth_multiplier),
                                                    "depthwise_kernel")
        self.pointwise_kernel = self.add_weight((1,) * self._rank + (channels * self.depth_multiplier, self.filters),
                                                self.pointwise_initializer, name="pointwise_kernel",
                                                regularizer=self.pointwise_regularizer,
                                                constraint=self.pointwise_constraint)
        if self.use_bias:
            self.bias = self._bias_weight((self.filters,))

    def call(self, inputs):
        act, after = self._fused()
        kernels = [self.depthwise_kernel, self.pointwise_kernel]
        return self._finish(self._as_2d(ops.separable_conv2d, inputs, kernels, act), after)

    def get_config(self):
        return dict(super().get_config(), pointwise_initializer=initializers.serialize(self.pointwise_initializer),
                    pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
                    pointwise_constraint=constraints.serialize(self.pointwise_constraint))


@register
class SeparableConv1D(_SeparableConv):
    """A depthwise 1-D convolution then a pointwise (kernel size 1) one."""

    _rank = 1


@register
class SeparableConv2D(_SeparableConv):
    """A depthwise 2-D convolution (kernel (kh, kw, channels, depth_multiplier)) then a 1x1 one (kernel
    (1, 1, channels * depth_multiplier, filters))."""

    _rank = 2


# Keras' aliases
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
