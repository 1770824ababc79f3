"""Convolutions: Keras 3's conv ops and the fused conv layers' forms, on one C++ kernel.

Every convolution here is a 2-D one over a (batch, height, width, channels) view
(Note [Convolution] in csrc/kernels/conv.h): a 1-D input gets a height of 1,
channels_first input is passed as its transposed view, a depthwise kernel is a
grouped one with a group per channel, a separable convolution is a depthwise
one then a 1x1 one, and a transposed convolution is the gradient of a
convolution with respect to its input. This module turns Keras' arguments
(strides, padding "valid" / "same" / "causal", dilation_rate, data_format,
output_padding) into the kernel's geometry: the pads before and the output size.
"""

import builtins

from . import _core, _spatial
from .autograd import _state, record
from .ops import _as_tensor, _recording, add, expand_dims, reshape, squeeze, sum, transpose

_FUSED = {"linear": _core._Activation.linear, "relu": _core._Activation.relu, "sigmoid": _core._Activation.sigmoid,
          "tanh": _core._Activation.tanh}


def _fused_act(activation):
    """The activation the kernel applies in its epilogue, or None when it runs after."""
    if activation is None:
        return _core._Activation.linear
    return _FUSED.get(activation.lower()) if isinstance(activation, str) else None


def _pads(op, padding, sizes, kernel, strides, dilation, input_shape):
    """The (pads before, output sizes) of a convolution's spatial axes for Keras' padding names
    (_spatial.axis_extent) or explicit (before, after) pairs."""
    rank = len(sizes)
    if isinstance(padding, str):
        mode = _spatial.padding(op, padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"))
        extents = [_spatial.axis_extent(op, n, k, s, mode, input_shape, d)
                   for n, k, s, d in zip(sizes, kernel, strides, dilation)]
        return [e[1] for e in extents], [e[0] for e in extents]
    try:
        pairs = [tuple(p) for p in padding]
    except TypeError:
        raise ValueError(f"{op}: padding must be 'valid', 'same' or {rank} (before, after) pairs, "
                         f"got {padding!r}") from None
    if len(pairs) != rank or any(len(p) != 2 or any(not isinstance(v, int) or v < 0 for v in p) for p in pairs):
        raise ValueError(f"{op}: padding must be 'valid', 'same' or {rank} (before, after) pairs of ints >= 0, "
                         f"got {padding!r}")
    out = [(n + b + a - (k - 1) * d - 1) // s + 1 for n, (b, a), k, s, d in zip(sizes, pairs, kernel, strides, dilation)]
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: computed output size would be zero or negative: input shape {input_shape}, "
                         f"kernel {tuple(kernel)}, strides {tuple(strides)}, dilation_rate {tuple(dilation)}, "
                         f"padding {padding!r}")
    return [b for b, _ in pairs], out


# ---- the three linear maps, each recorded with the other two as its gradient ----

def _geom(strides, dilation, before, out):
    return [strides[0], strides[1], dilation[0], dilation[1], before[0], before[1], out[0], out[1]]


def _conv_apply(x, kernel, geom):
    y = _core._conv2d(x, kernel, None, geom, _core._Activation.linear)
    if _recording():
        record(_conv_apply_backward, (x, kernel), y, geom)
    return y


def _conv_apply_backward(g, ins, y, geom):
    x, kernel = ins
    needs = _state.needs
    return (_input_grad(g, kernel, geom, x.shape) if needs[0] else None,
            _kernel_grad(x, g, geom, kernel.shape) if needs[1] else None)


def _input_grad(dz, kernel, geom, x_shape):
    dx = _core._conv2d_input_grad(dz, kernel, geom, list(x_shape))
    if _recording():
        record(_input_grad_backward, (dz, kernel), dx, geom)
    return dx


def _input_grad_backward(g, ins, y, geom):
    dz, kernel = ins
    needs = _state.needs
    return (_conv_apply(g, kernel, geom) if needs[0] else None,
            _kernel_grad(g, dz, geom, kernel.shape) if needs[1] else None)


def _kernel_grad(x, dz, geom, w_shape):
    dw = _core._conv2d_kernel_grad(x, dz, geom, list(w_shape))
    if _recording():
        record(_kernel_grad_backward, (x, dz), dw, geom)
    return dw


def _kernel_grad_backward(g, ins, y, geom):
    x, dz = ins
    needs = _state.needs
    return (_input_grad(dz, g, geom, x.shape) if needs[0] else None,
            _conv_apply(x, g, geom) if needs[1] else None)


# ---- the fused layer form: bias and activation in the GEMM's epilogue ----

def _fused_backward(g, ins, y, attrs):
    x, kernel, bias = ins
    geom, act = attrs
    needs = _state.needs
    if _recording():  # an outer tape records this backward: the same math as recorded ops
        from . import ops
        A = _core._Activation
        dz = {A.linear: lambda: g, A.relu: lambda: ops.where(ops.greater(y, 0), g, 0),
              A.sigmoid: lambda: ops.multiply(g, ops.multiply(y, ops.subtract(1, y))),
              A.tanh: lambda: ops.multiply(g, ops.subtract(1, ops.square(y)))}[act]()
        return (_input_grad(dz, kernel, geom, x.shape) if needs[0] else None,
                _kernel_grad(x, dz, geom, kernel.shape) if needs[1] else None,
                sum(dz, axis=(0, 1, 2)) if bias is not None and needs[2] else None)
    return _core._conv2d_backward(g, x, kernel, y, geom, act, bool(needs[0]), bool(needs[1]),
                                  bias is not None and bool(needs[2]))


def _conv2d_nhwc(x, kernel, bias, geom, act):
    """act(conv(x, kernel) + bias) for x (N, H, W, C) and a (KH, KW, C/G, F) kernel, one node."""
    y = _core._conv2d(x, kernel, bias, geom, act)
    if _recording():
        record(_fused_backward, (x, kernel, bias), y, (geom, act))
    return y


def _activate(y, activation):
    from . import activations

    return activations.get(activation)(y)


def _convolve(op, x, kernel, bias, strides, padding, dilation_rate, data_format, activation, rank):
    """The shared body of conv1d / conv2d / conv: checks, layout, geometry, one fused kernel call."""
    x, kernel = _as_tensor(x, op), _as_tensor(kernel, op)
    bias = None if bias is None else _as_tensor(bias, op)
    data_format = _spatial.data_format(op, data_format)
    if x.ndim != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D input (batch, {'spatial, ' * rank}channels), got shape "
                         f"{x.shape}")
    if kernel.ndim != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D kernel ({'spatial, ' * rank}in_channels, filters) for the "
                         f"input of shape {x.shape}, got kernel shape {kernel.shape}")
    strides = _spatial.int_tuple(op, "strides", strides, rank)
    dilation = _spatial.int_tuple(op, "dilation_rate", dilation_rate, rank)
    xl = x if data_format == "channels_last" else transpose(x, (0,) + tuple(range(2, rank + 2)) + (1,))
    channels = xl.shape[-1]
    if channels == 0 or kernel.shape[-2] == 0 or channels % kernel.shape[-2] or kernel.shape[-1] % (
            channels // kernel.shape[-2]):
        raise ValueError(f"{op}: input of shape {x.shape} ({channels} channels) does not match the kernel of shape "
                         f"{kernel.shape}: in_channels must divide the input's channels, and the groups they make "
                         f"must divide the filters")
    before, out = _pads(op, padding, xl.shape[1:-1], kernel.shape[:-2], strides, dilation,
                        f"{x.shape} with kernel shape {kernel.shape}")
    if rank == 1:
        xl, kernel = expand_dims(xl, 1), expand_dims(kernel, 0)
        strides, dilation, before, out = (1,) + strides, (1,) + dilation, [0] + before, [1] + out
    act = _fused_act(activation)
    y = _conv2d_nhwc(xl, kernel, bias, _geom(strides, dilation, before, out),
                     act if act is not None else _core._Activation.linear)
    if rank == 1:
        y = squeeze(y, 1)
    if data_format == "channels_first":
        y = transpose(y, (0, rank + 1) + tuple(range(1, rank + 1)))
    return y if act is not None else _activate(y, activation)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, data_format="channels_last",
           activation=None):
    """activation(conv(x, kernel) + bias) as one fused node (Note [Convolution]).

    x: (N, H, W, C) (channels_first: (N, C, H, W)); kernel: (KH, KW, C // groups, F), the
    groups being C // kernel.shape[2]; bias: (F,) or None; strides and dilation_rate: an int
    or a pair; padding: "valid", "same" (TensorFlow's rule: output size ceil(in / stride)) or
    ((top, bottom), (left, right)); activation: None, "relu", "sigmoid" and "tanh" fused in
    the GEMM's epilogue, any other pynn activation (name or callable) applied after.
    """
    return _convolve("conv2d", x, kernel, bias, strides, padding, dilation_rate, data_format, activation, 2)


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, data_format="channels_last",
           activation=None):
    """conv2d's 1-D form: x (N, L, C) (channels_first (N, C, L)), kernel (K, C // groups, F);
    padding also "causal" (the output at t sees inputs up to t only)."""
    return _convolve("conv1d", x, kernel, bias, strides, padding, dilation_rate, data_format, activation, 1)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Keras' ops.conv for 1-D (3-D inputs) and 2-D (4-D inputs) convolutions."""
    rank = _as_tensor(inputs, "conv").ndim - 2
    if rank not in (1, 2):
        raise ValueError(f"conv: expected a 3-D or 4-D input, got shape {_as_tensor(inputs, 'conv').shape} "
                         f"(3-D convolutions are not implemented)")
    return _convolve("conv", inputs, kernel, None, strides, padding, dilation_rate, data_format, None, rank)


def _depthwise_as_grouped(op, kernel, rank):
    kernel = _as_tensor(kernel, op)
    if kernel.ndim != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D kernel ({'spatial, ' * rank}channels, depth_multiplier), "
                         f"got shape {kernel.shape}")
    # (spatial..., C, M) -> (spatial..., 1, C * M): a group per channel, output channel c * M + m.
    return reshape(kernel, kernel.shape[:-2] + (1, kernel.shape[-2] * kernel.shape[-1]))


def _depthwise(op, x, kernel, bias, strides, padding, dilation_rate, data_format, activation, rank):
    x = _as_tensor(x, op)
    channels = x.shape[-1 if _spatial.data_format(op, data_format) == "channels_last" else 1] if x.ndim == rank + 2 else None
    k = _as_tensor(kernel, op)
    if channels is not None and k.ndim == rank + 2 and k.shape[-2] != channels:
        raise ValueError(f"{op}: the kernel of shape {k.shape} is for {k.shape[-2]} channels, the input of shape "
                         f"{x.shape} has {channels}")
    return _convolve(op, x, _depthwise_as_grouped(op, k, rank), bias, strides, padding, dilation_rate, data_format,
                     activation, rank)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, data_format="channels_last",
                     activation=None):
    """Each input channel convolved with its own depth_multiplier filters: kernel (KH, KW, C, M),
    output channels C * M (channel c's filters at c * M + m)."""
    return _depthwise("depthwise_conv2d", x, kernel, bias, strides, padding, dilation_rate, data_format, activation, 2)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Keras' ops.depthwise_conv for 3-D and 4-D inputs."""
    rank = _as_tensor(inputs, "depthwise_conv").ndim - 2
    if rank not in (1, 2):
        raise ValueError(f"depthwise_conv: expected a 3-D or 4-D input, got shape {inputs.shape}")
    return _depthwise("depthwise_conv", inputs, kernel, None, strides, padding, dilation_rate, data_format, None, rank)


def _separable(op, x, depthwise_kernel, pointwise_kernel, bias, strides, padding, dilation_rate, data_format,
               activation, rank):
    pointwise_kernel = _as_tensor(pointwise_kernel, op)
    if pointwise_kernel.ndim != rank + 2 or any(d != 1 for d in pointwise_kernel.shape[:-2]):
        raise ValueError(f"{op}: expected a pointwise kernel of shape ({'1, ' * rank}in, filters), got "
                         f"{pointwise_kernel.shape}")
    mid = _depthwise(op, x, depthwise_kernel, None, strides, padding, dilation_rate, data_format, None, rank)
    return _convolve(op, mid, pointwise_kernel, bias, 1, "valid", 1, data_format, activation, rank)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                     data_format="channels_last", activation=None):
    """A depthwise convolution (kernel (KH, KW, C, M)) then a 1x1 one (kernel (1, 1, C * M, F))."""
    return _separable("separable_conv2d", x, depthwise_kernel, pointwise_kernel, bias, strides, padding,
                      dilation_rate, data_format, activation, 2)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Keras' ops.separable_conv for 3-D and 4-D inputs."""
    rank = _as_tensor(inputs, "separable_conv").ndim - 2
    if rank not in (1, 2):
        raise ValueError(f"separable_conv: expected a 3-D or 4-D input, got shape {inputs.shape}")
    return _separable("separable_conv", inputs, depthwise_kernel, pointwise_kernel, None, strides, padding,
                      dilation_rate, data_format, None, rank)


def _transpose_pads(op, padding, sizes, kernel, strides, dilation, output_padding):
    """Keras' transposed-convolution padding as the geometry of the convolution it is the gradient of:
    (pads before, the transposed convolution's output size) per axis."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    before, out = [], []
    for i, (n, k, s, d) in enumerate(zip(sizes, kernel, strides, dilation)):
        e = (k - 1) * d + 1
        extra = None if output_padding is None else output_padding[i]
        if padding.lower() == "valid":
            extra = builtins.max(e, s) - e if extra is None else extra
            left, right = e - 1, e - 1 + extra
        else:
            total = s + e - 2 if extra is None else e + e % 2 - 2 + extra
            left = builtins.min(total // 2 + total % 2, e - 1)
            right = total - left
        size = (n - 1) * s + 2 + left + right - e
        if size <= 0:
            raise ValueError(f"{op}: computed output size would be zero or negative for input size {n}, kernel {k}, "
                             f"strides {s}, padding {padding!r}, output_padding {extra}")
        before.append(e - 1 - left)
        out.append(size)
    return before, out



def _conv_transpose(op, x, kernel, bias, strides, padding, output_padding, dilation_rate, data_format, activation,
                    rank):
    x, kernel = _as_tensor(x, op), _as_tensor(kernel, op)
    data_format = _spatial.data_format(op, data_format)
    if not (x.dtype.is_floating_point and kernel.dtype == x.dtype):
        raise TypeError(f"{op}: input and kernel must share a float dtype, got {x.dtype.name} and {kernel.dtype.name}")
    if x.ndim != rank + 2 or kernel.ndim != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D input and a {rank + 2}-D kernel ({'spatial, ' * rank}"
                         f"filters, in_channels), got {x.shape} and {kernel.shape}")
    strides = _spatial.int_tuple(op, "strides", strides, rank)
    dilation = _spatial.int_tuple(op, "dilation_rate", dilation_rate, rank)
    outpad = None if output_padding is None else _spatial.int_tuple(op, "output_padding", output_padding, rank, minimum=0)
    if outpad is not None and any(p >= s for p, s in zip(outpad, strides)):
        raise ValueError(f"{op}: output_padding {outpad} must be smaller than strides {strides}")
    xl = x if data_format == "channels_last" else transpose(x, (0,) + tuple(range(2, rank + 2)) + (1,))
    if xl.shape[-1] != kernel.shape[-1]:
        raise ValueError(f"{op}: input of shape {x.shape} has {xl.shape[-1]} channels, the kernel of shape "
                         f"{kernel.shape} expects {kernel.shape[-1]}")
    before, out = _transpose_pads(op, padding, xl.shape[1:-1], kernel.shape[:-2], strides, dilation, outpad)
    if rank == 1:
        xl, kernel = expand_dims(xl, 1), expand_dims(kernel, 0)
        strides, dilation, before, out = (1,) + strides, (1,) + dilation, [0] + before, [1] + out
    geom = [strides[0], strides[1], dilation[0], dilation[1], before[0], before[1], xl.shape[1], xl.shape[2]]
    y = _input_grad(xl, kernel, geom, (xl.shape[0], out[0], out[1], kernel.shape[2]))
    if bias is not None:
        y = add(y, _as_tensor(bias, op))
    if rank == 1:
        y = squeeze(y, 1)
    if data_format == "channels_first":
        y = transpose(y, (0, rank + 1) + tuple(range(1, rank + 1)))
    return y if activation is None else _activate(y, activation)


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None, dilation_rate=1,
                     data_format="channels_last", activation=None):
    """The transposed convolution (the gradient of conv2d with respect to its input): kernel
    (KH, KW, F, C) as Keras stores it, output (N, OH, OW, F) with Keras' sizes: "valid"
    (in - 1) * stride + max(kernel, stride), "same" in * stride, or with output_padding
    (in - 1) * stride + kernel - 2 * pad + output_padding."""
    return _conv_transpose("conv2d_transpose", x, kernel, bias, strides, padding, output_padding, dilation_rate,
                           data_format, activation, 2)


def conv1d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None, dilation_rate=1,
                     data_format="channels_last", activation=None):
    """conv2d_transpose's 1-D form: x (N, L, C), kernel (K, F, C)."""
    return _conv_transpose("conv1d_transpose", x, kernel, bias, strides, padding, output_padding, dilation_rate,
                           data_format, activation, 1)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """Keras' ops.conv_transpose for 3-D and 4-D inputs."""
    rank = _as_tensor(inputs, "conv_transpose").ndim - 2
    if rank not in (1, 2):
        raise ValueError(f"conv_transpose: expected a 3-D or 4-D input, got shape {inputs.shape}")
    return _conv_transpose("conv_transpose", inputs, kernel, None, strides, padding, output_padding, dilation_rate,
                           data_format, None, rank)
