"""Convolutions (issue 17) against a float64 NumPy reference written here.

Under test: pynn.ops.conv, depthwise_conv, separable_conv and conv_transpose (Keras 3's ops),
the conveniences conv1d, conv2d, conv2d_transpose, depthwise_conv2d and separable_conv2d (bias
and a fused activation), and the layers Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D and
Conv2DTranspose (Keras 3's names, defaults, weights and configs; the numbers Keras' own tests
state in keras/src/layers/convolutional/*_test.py).

The reference works in channels_last and float64 and is itself tested first (the "reference"
tests): the convolution written twice, as direct loops over output positions and kernel taps and
as im2col + one matmul per group the way "Deep Learning from Scratch" writes im2col; its input
gradient (the transposed convolution) written twice, as loops and as col2im, and checked to be
the adjoint of the convolution (<conv(x), y> == <x, conv_transpose(y)>); the kernel gradient
checked the same way; output sizes checked against Keras' formulas (compute_conv_output_shape,
compute_conv_transpose_output_shape and the padding Keras gives JAX); dilation against a
zero-stuffed kernel; depthwise against per-channel loops; 1-D against np.correlate; and a few
results small enough to work out by hand.
"""

import math
import zlib

import numpy as np
import pytest

import pynn
from pynn import activations, initializers, layers, ops
from pynn.utils import gradcheck

from oracle import assert_same_state, captured_and_eager
from oracle import isa, threads  # noqa: F401  (fixtures)

FLOATS = ["float32", "float64"]
FORMATS = ["channels_last", "channels_first"]

# ====================================================================== the reference (float64)


def _tup(v, nd):
    return (int(v),) * nd if np.ndim(v) == 0 else tuple(int(a) for a in v)


def _eff(k, d):
    """The span of a dilated kernel: k taps d apart."""
    return (k - 1) * d + 1


def same_pads(n, k, s, d):
    """TensorFlow's "same": out = ceil(n / s), the zeros needed split with the smaller half before."""
    out = -(-n // s)
    total = max((out - 1) * s + _eff(k, d) - n, 0)
    return total // 2, total - total // 2


def conv_geometry(spatial, ksize, strides, dilation, padding):
    """(pads, out) of a convolution: per spatial axis the zeros (before, after) the input and the
    output size, for padding "valid", "same", "causal" (1-D) or explicit ((before, after), ...)."""
    nd = len(spatial)
    if isinstance(padding, str):
        padding = padding.lower()
    pads = []
    for i, (n, k, s, d) in enumerate(zip(spatial, ksize, strides, dilation)):
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "same":
            pads.append(same_pads(n, k, s, d))
        elif padding == "causal":
            assert nd == 1
            pads.append((_eff(k, d) - 1, 0))
        else:
            pads.append(tuple(int(p) for p in padding[i]))
    out = tuple((n + b + a - _eff(k, d)) // s + 1
                for n, (b, a), k, s, d in zip(spatial, pads, ksize, strides, dilation))
    return pads, out


def transpose_geometry(spatial, ksize, strides, dilation, padding, output_padding):
    """(befores, out) of a transposed convolution, Keras' arithmetic: it is the input gradient
    of a convolution of an out-sized image padded by `before` zeros at the start."""
    nd = len(spatial)
    ops_ = [None] * nd if output_padding is None else list(_tup(output_padding, nd))
    befores, outs = [], []
    for n, k, s, d, op in zip(spatial, ksize, strides, dilation, ops_):
        e = _eff(k, d)
        if padding == "valid":
            outs.append((n - 1) * s + e + (max(e, s) - e if op is None else op))
            befores.append(0)
        else:
            if op is None:
                outs.append(n * s)
                total = s + e - 2
            else:
                outs.append((n - 1) * s + e % 2 + op)
                total = e + e % 2 - 2 + op
            left = min(total // 2 + total % 2, e - 1)  # the zeros JAX puts before the stretched input
            befores.append(e - 1 - left)
    return tuple(befores), tuple(outs)


def _pad_crop(x, pads):
    """x (N, *spatial, C) with pads[i] = (before, after) zeros added (or, negative, rows removed)."""
    shape = [x.shape[0]] + [n + b + a for n, (b, a) in zip(x.shape[1:-1], pads)] + [x.shape[-1]]
    out = np.zeros(shape)
    src, dst = [slice(None)], [slice(None)]
    for n, size, (b, _) in zip(x.shape[1:-1], shape[1:-1], pads):
        lo, hi = max(0, -b), min(n, size - b)
        if hi <= lo:
            return out
        src.append(slice(lo, hi))
        dst.append(slice(lo + b, hi + b))
    out[tuple(dst)] = x[tuple(src)]
    return out


def _window(tap, dilation, strides, out):
    """The input positions (in the padded image) one kernel tap reads, one per output position."""
    return tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(tap, dilation, strides, out))


def im2col(x, ksize, strides, dilation, pads, out):
    """"Deep Learning from Scratch"'s im2col for any rank, channels last: (N, *out, *ksize, C),
    filled one kernel tap at a time from a strided slice of the padded image."""
    nd = len(out)
    xp = _pad_crop(x, pads)
    col = np.zeros((x.shape[0], *out, *ksize, x.shape[-1]))
    for tap in np.ndindex(*ksize):
        col[(slice(None),) * (1 + nd) + tap] = xp[(slice(None),) + _window(tap, dilation, strides, out)]
    return col


def col2im(col, spatial, strides, dilation, befores):
    """The adjoint of im2col ("Deep Learning from Scratch"'s col2im): each tap's slice added back
    into a zero padded image, which is then cut to the unpadded `spatial` size."""
    nd = len(spatial)
    out, ksize = col.shape[1:1 + nd], col.shape[1 + nd:1 + 2 * nd]
    size = [max(_eff(k, d) + s * (o - 1), b + n)
            for k, d, s, o, b, n in zip(ksize, dilation, strides, out, befores, spatial)]
    img = np.zeros((col.shape[0], *size, col.shape[-1]))
    for tap in np.ndindex(*ksize):
        img[(slice(None),) + _window(tap, dilation, strides, out)] += col[(slice(None),) * (1 + nd) + tap]
    return img[(slice(None),) + tuple(slice(b, b + n) for b, n in zip(befores, spatial))]


def _groups(c, w):
    """(groups, channels per group, filters per group) of kernel w (*k, C // groups, F) on C channels."""
    cg, f = w.shape[-2], w.shape[-1]
    assert c % cg == 0 and f % (c // cg) == 0, (c, w.shape)
    g = c // cg
    return g, cg, f // g


def conv_im2col(x, w, strides, dilation, pads):
    """y (N, *out, F) = im2col(x) @ kernel, one matmul per group."""
    nd = x.ndim - 2
    ksize = w.shape[:nd]
    out = tuple((n + b + a - _eff(k, d)) // s + 1
                for n, (b, a), k, s, d in zip(x.shape[1:-1], pads, ksize, strides, dilation))
    g, cg, fg = _groups(x.shape[-1], w)
    m, kk = x.shape[0] * math.prod(out), math.prod(ksize)
    col = im2col(x, ksize, strides, dilation, pads, out).reshape(m, kk, g, cg)
    y = np.empty((m, g * fg))
    for j in range(g):
        wj = w[..., j * fg:(j + 1) * fg].reshape(kk * cg, fg)
        y[:, j * fg:(j + 1) * fg] = col[:, :, j, :].reshape(m, kk * cg) @ wj
    return y.reshape(x.shape[0], *out, g * fg)


def conv_direct(x, w, strides, dilation, pads):
    """y (N, *out, F) by the definition: y[o] = sum over taps t of x[o * s + t * d - before] @ w[t],
    per group, zeros outside x."""
    nd = x.ndim - 2
    spatial, ksize = x.shape[1:-1], w.shape[:nd]
    out = tuple((n + b + a - _eff(k, d)) // s + 1
                for n, (b, a), k, s, d in zip(spatial, pads, ksize, strides, dilation))
    g, cg, fg = _groups(x.shape[-1], w)
    y = np.zeros((x.shape[0], *out, g * fg))
    for o in np.ndindex(*out):
        for tap in np.ndindex(*ksize):
            pos = tuple(oi * s + t * d - b for oi, t, s, d, (b, _) in zip(o, tap, strides, dilation, pads))
            if all(0 <= p < n for p, n in zip(pos, spatial)):
                xv = x[(slice(None),) + pos]
                for j in range(g):
                    fs = slice(j * fg, (j + 1) * fg)
                    y[(slice(None),) + o + (fs,)] += xv[:, j * cg:(j + 1) * cg] @ w[tap + (slice(None), fs)]
    return y


def conv_adjoint_col2im(dy, w, strides, dilation, befores, spatial, c):
    """dx (N, *spatial, c): the gradient of conv(x, w) for dy, which is the transposed convolution
    of dy: rows of dy @ kernel^T put back with col2im."""
    nd = dy.ndim - 2
    ksize, out = w.shape[:nd], dy.shape[1:-1]
    g, cg, fg = _groups(c, w)
    m, kk = dy.shape[0] * math.prod(out), math.prod(ksize)
    dyf = dy.reshape(m, g * fg)
    col = np.empty((m, kk, g, cg))
    for j in range(g):
        col[:, :, j, :] = (dyf[:, j * fg:(j + 1) * fg] @ w[..., j * fg:(j + 1) * fg].reshape(kk * cg, fg).T
                           ).reshape(m, kk, cg)
    return col2im(col.reshape(dy.shape[0], *out, *ksize, c), spatial, strides, dilation, befores)


def conv_adjoint_direct(dy, w, strides, dilation, befores, spatial, c):
    """The same dx by the definition: x[i] collects dy[o] @ w[t]^T over every (o, t) with
    o * s + t * d - before == i."""
    nd = dy.ndim - 2
    ksize, out = w.shape[:nd], dy.shape[1:-1]
    g, cg, fg = _groups(c, w)
    dx = np.zeros((dy.shape[0], *spatial, c))
    for i in np.ndindex(*spatial):
        for tap in np.ndindex(*ksize):
            num = [ii + b - t * d for ii, b, t, d in zip(i, befores, tap, dilation)]
            if any(q % s or not 0 <= q // s < o for q, s, o in zip(num, strides, out)):
                continue
            o = tuple(q // s for q, s in zip(num, strides))
            for j in range(g):
                fs = slice(j * fg, (j + 1) * fg)
                contribution = dy[(slice(None),) + o + (fs,)] @ w[tap + (slice(None), fs)].T
                dx[(slice(None),) + i + (slice(j * cg, (j + 1) * cg),)] += contribution
    return dx


def conv_kernel_grad(x, dy, ksize, cg, strides, dilation, pads):
    """dW (*ksize, cg, F) of conv(x, w) for dy: im2col(x)^T @ dy per group."""
    out = dy.shape[1:-1]
    g = x.shape[-1] // cg
    fg = dy.shape[-1] // g
    m, kk = x.shape[0] * math.prod(out), math.prod(ksize)
    col = im2col(x, ksize, strides, dilation, pads, out).reshape(m, kk, g, cg)
    dyf = dy.reshape(m, g * fg)
    dw = np.empty((kk, cg, g * fg))
    for j in range(g):
        dw[:, :, j * fg:(j + 1) * fg] = (col[:, :, j, :].reshape(m, kk * cg).T @ dyf[:, j * fg:(j + 1) * fg]
                                         ).reshape(kk, cg, fg)
    return dw.reshape(*ksize, cg, g * fg)


# ---------------------------------------------------------------- activations and layouts

def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


ACTS = {  # value, derivative (Keras' formulas; elu with alpha 1)
    None: (lambda z: z, lambda z: np.ones_like(z)),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
            lambda z: np.where(z > 0, 1, np.exp(np.minimum(z, 0)))),
    "silu": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z)))),
}


def _last(a, data_format):
    a = np.asarray(a, dtype=np.float64)
    return np.moveaxis(a, 1, -1) if data_format == "channels_first" else a


def _back(a, data_format):
    return np.moveaxis(a, -1, 1) if data_format == "channels_first" else a


def _spatial_last(x, data_format):
    return x.shape[2:] if data_format == "channels_first" else x.shape[1:-1]


# ---------------------------------------------------------------- the reference ops (any layout)

def ref_conv(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, data_format=None,
             activation=None, how="im2col"):
    """act(conv(x, kernel) + bias) in float64; groups = C // kernel.shape[-2]."""
    fmt = data_format or "channels_last"
    xl, w = _last(x, fmt), np.asarray(kernel, np.float64)
    nd = xl.ndim - 2
    s, d = _tup(strides, nd), _tup(dilation_rate, nd)
    pads, _ = conv_geometry(xl.shape[1:-1], w.shape[:nd], s, d, padding)
    z = (conv_im2col if how == "im2col" else conv_direct)(xl, w, s, d, pads)
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    return _back(ACTS[activation][0](z), fmt)


def _depthwise_as_grouped(kernel):
    """A depthwise kernel (*k, C, M) is the grouped kernel (*k, 1, C * M) with C groups: output
    channel c * M + m is channel c through kernel[..., c, m]."""
    k = np.asarray(kernel, np.float64)
    return k.reshape(*k.shape[:-2], 1, k.shape[-2] * k.shape[-1])


def ref_depthwise(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, data_format=None,
                  activation=None):
    return ref_conv(x, _depthwise_as_grouped(kernel), bias, strides, padding, dilation_rate, data_format,
                    activation)


def ref_separable(x, depthwise_kernel, pointwise_kernel, bias=None, strides=1, padding="valid",
                  dilation_rate=1, data_format=None, activation=None):
    h = ref_depthwise(x, depthwise_kernel, None, strides, padding, dilation_rate, data_format)
    return ref_conv(h, pointwise_kernel, bias, 1, "valid", 1, data_format, activation)


def ref_conv_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None, dilation_rate=1,
                       data_format=None, activation=None, how="col2im"):
    """act(conv_transpose(x, kernel) + bias): kernel (*k, filters, C) as Keras stores it, which is
    the kernel of the convolution (filters channels -> C) whose input gradient this is."""
    fmt = data_format or "channels_last"
    xl, w = _last(x, fmt), np.asarray(kernel, np.float64)
    nd = xl.ndim - 2
    s, d = _tup(strides, nd), _tup(dilation_rate, nd)
    befores, out = transpose_geometry(xl.shape[1:-1], w.shape[:nd], s, d, padding, output_padding)
    adj = conv_adjoint_col2im if how == "col2im" else conv_adjoint_direct
    z = adj(xl, w, s, d, befores, out, w.shape[-2])
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    return _back(ACTS[activation][0](z), fmt)


def ref_conv_grads(x, kernel, dy, bias=None, strides=1, padding="valid", dilation_rate=1, data_format=None,
                   activation=None):
    """(dx, dkernel, dbias) of sum(dy * act(conv(x, kernel) + bias)): dz = dy * act'(z), then the
    adjoint for dx and im2col^T dz for the kernel."""
    fmt = data_format or "channels_last"
    xl, w, dyl = _last(x, fmt), np.asarray(kernel, np.float64), _last(dy, fmt)
    nd = xl.ndim - 2
    s, d = _tup(strides, nd), _tup(dilation_rate, nd)
    pads, _ = conv_geometry(xl.shape[1:-1], w.shape[:nd], s, d, padding)
    z = conv_im2col(xl, w, s, d, pads) + (0 if bias is None else np.asarray(bias, np.float64))
    dz = dyl * ACTS[activation][1](z)
    dx = conv_adjoint_col2im(dz, w, s, d, [b for b, _ in pads], xl.shape[1:-1], xl.shape[-1])
    dw = conv_kernel_grad(xl, dz, w.shape[:nd], w.shape[-2], s, d, pads)
    return _back(dx, fmt), dw, dz.sum(axis=tuple(range(dz.ndim - 1)))


def ref_conv_transpose_grads(x, kernel, dy, bias=None, strides=1, padding="valid", output_padding=None,
                             dilation_rate=1, data_format=None, activation=None):
    """(dx, dkernel, dbias) of sum(dy * act(conv_transpose(x, kernel) + bias)). conv_transpose is
    the adjoint of a convolution, so its input gradient is that convolution of dz, and its kernel
    gradient the convolution's kernel gradient with the roles of image and output swapped."""
    fmt = data_format or "channels_last"
    xl, w, dyl = _last(x, fmt), np.asarray(kernel, np.float64), _last(dy, fmt)
    nd = xl.ndim - 2
    s, d = _tup(strides, nd), _tup(dilation_rate, nd)
    befores, out = transpose_geometry(xl.shape[1:-1], w.shape[:nd], s, d, padding, output_padding)
    z = conv_adjoint_col2im(xl, w, s, d, befores, out, w.shape[-2])
    z = z + (0 if bias is None else np.asarray(bias, np.float64))
    dz = dyl * ACTS[activation][1](z)
    pads = [(b, (n - 1) * si + _eff(k, di) - o - b)
            for b, n, si, k, di, o in zip(befores, xl.shape[1:-1], s, w.shape[:nd], d, out)]
    dx = conv_im2col(dz, w, s, d, pads)
    dw = conv_kernel_grad(dz, xl, w.shape[:nd], w.shape[-2], s, d, pads)
    return _back(dx, fmt), dw, dz.sum(axis=tuple(range(dz.ndim - 1)))


# ---------------------------------------------------------------- Keras' formulas, restated

def keras_conv_output_shape(input_shape, filters, kernel_size, strides, padding, data_format, dilation_rate):
    """compute_conv_output_shape in keras/src/ops/operation_utils.py: valid gives
    floor((n - d * (k - 1) - 1) / s) + 1, same and causal floor((n - 1) / s) + 1."""
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = []
    for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate):
        if padding == "valid":
            out.append(math.floor((n - d * (k - 1) - 1) / s) + 1)
        else:
            out.append(math.floor((n - 1) / s) + 1)
    if data_format == "channels_last":
        return (input_shape[0], *out, filters)
    return (input_shape[0], filters, *out)


def keras_conv_transpose_output_shape(input_shape, kernel_size, filters, strides, padding, output_padding,
                                      data_format, dilation_rate):
    """compute_conv_transpose_output_shape in keras/src/backend/common/backend_utils.py."""
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    nd = len(spatial)
    ops_ = [None] * nd if output_padding is None else list(_tup(output_padding, nd))
    out = []
    for n, k, s, d, op in zip(spatial, kernel_size, strides, dilation_rate, ops_):
        k = (k - 1) * d + 1
        if padding == "valid":
            out.append((n - 1) * s + k + (max(k, s) - k if op is None else op))
        elif op is None:
            out.append(n * s)
        else:
            out.append((n - 1) * s + k % 2 + op)
    if data_format == "channels_last":
        return (input_shape[0], *out, filters)
    return (input_shape[0], filters, *out)


def keras_jax_transpose_pads(k, s, d, padding, output_padding):
    """_convert_conv_transpose_padding_args_from_keras_to_jax: (left, right) zeros around the
    stride-stretched input before a plain convolution with the flipped kernel."""
    k = (k - 1) * d + 1
    if padding == "valid":
        op = max(k, s) - k if output_padding is None else output_padding
        return k - 1, k - 1 + op
    total = s + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


def keras_test_same_padding(n, k, s):
    """_same_padding of Keras' conv tests (a second statement of TensorFlow's "same")."""
    total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
    return total // 2, total - total // 2


# ====================================================================== random cases

def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def draw_conv(rng, nd, paddings, data_format="channels_last", groups=True, max_side=9):
    """A random convolution: batch 1-3, sides 1-max_side, channels 1-6, kernels 1-4, strides 1-3,
    dilations 1-3, groups dividing channels and filters; its output is non-empty."""
    while True:
        n, c = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        g = int(rng.choice(_divisors(c))) if groups else 1
        f = g * int(rng.integers(1, 6 // g + 1))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 4, nd))
        sp = tuple(int(v) for v in rng.integers(1, max_side + 1, nd))
        padding = paddings[int(rng.integers(len(paddings)))]
        if padding == "explicit":
            padding = tuple((int(a), int(b)) for a, b in rng.integers(0, 3, (nd, 2)))
        _, out = conv_geometry(sp, k, s, d, padding)
        if min(out) < 1:
            continue
        x_shape = (n, *sp, c) if data_format == "channels_last" else (n, c, *sp)
        return dict(x_shape=x_shape, kernel_shape=(*k, c // g, f), strides=s, dilation_rate=d,
                    padding=padding, data_format=data_format, filters=f, groups=g)


def draw_transpose(rng, nd, data_format="channels_last", max_side=7):
    """A random transposed convolution: output_padding None or below the stride; non-empty output."""
    while True:
        n, c, f = (int(v) for v in rng.integers(1, [4, 7, 7]))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 4, nd))
        sp = tuple(int(v) for v in rng.integers(1, max_side + 1, nd))
        padding = ["valid", "same"][int(rng.integers(2))]
        op = None if rng.random() < 0.4 else tuple(int(rng.integers(0, si)) for si in s)
        _, out = transpose_geometry(sp, k, s, d, padding, op)
        if min(out) < 1:
            continue
        x_shape = (n, *sp, c) if data_format == "channels_last" else (n, c, *sp)
        return dict(x_shape=x_shape, kernel_shape=(*k, f, c), strides=s, dilation_rate=d, padding=padding,
                    output_padding=op, data_format=data_format, filters=f)


def _arg(rng, t):
    """A per-axis argument as Keras takes it: an int when all axes agree (sometimes), else the tuple."""
    return t[0] if len(set(t)) == 1 and rng.random() < 0.5 else t


def _normal(rng, shape):
    return rng.standard_normal(shape)


# ====================================================================== the reference, tested

@pytest.mark.parametrize("nd", [1, 2])
def test_reference_direct_loops_equal_im2col(nd):
    rng = np.random.default_rng(10 + nd)
    paddings = ["valid", "same", "causal"] if nd == 1 else ["valid", "same", "explicit"]
    for _ in range(40):
        case = draw_conv(rng, nd, paddings)
        x, w = _normal(rng, case["x_shape"]), _normal(rng, case["kernel_shape"])
        kw = dict(strides=case["strides"], padding=case["padding"], dilation_rate=case["dilation_rate"])
        a = ref_conv(x, w, how="direct", **kw)
        b = ref_conv(x, w, how="im2col", **kw)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=str(case))


@pytest.mark.parametrize("nd", [1, 2])
def test_reference_conv_shapes_follow_keras_formulas(nd):
    rng = np.random.default_rng(20 + nd)
    for _ in range(300):
        fmt = FORMATS[int(rng.integers(2))]
        case = draw_conv(rng, nd, ["valid", "same"] + (["causal"] if nd == 1 else []), fmt)
        x = np.zeros(case["x_shape"])
        w = np.zeros(case["kernel_shape"])
        got = ref_conv(x, w, strides=case["strides"], padding=case["padding"], data_format=fmt,
                       dilation_rate=case["dilation_rate"]).shape
        want = keras_conv_output_shape(case["x_shape"], case["filters"], case["kernel_shape"][:nd],
                                       case["strides"], case["padding"], fmt, case["dilation_rate"])
        assert got == want, case
    # and the sizes Keras calls non-positive are the ones the reference finds non-positive
    for n, k, s, d in np.ndindex(6, 5, 4, 4):
        if k and s and d:
            _, (out,) = conv_geometry((n,), (k,), (s,), (d,), "valid")
            assert out == math.floor((n - d * (k - 1) - 1) / s) + 1


def test_reference_same_padding_is_the_keras_tests_same_padding():
    for n, k, s in np.ndindex(12, 9, 6):
        if k and s:
            assert same_pads(n, k, s, 1) == keras_test_same_padding(n, k, s), (n, k, s)


@pytest.mark.parametrize("nd", [1, 2])
def test_reference_transposed_conv_loops_equal_col2im_and_keras_shapes(nd):
    rng = np.random.default_rng(30 + nd)
    for _ in range(40):
        fmt = FORMATS[int(rng.integers(2))]
        case = draw_transpose(rng, nd, fmt)
        x, w = _normal(rng, case["x_shape"]), _normal(rng, case["kernel_shape"])
        kw = dict(strides=case["strides"], padding=case["padding"], output_padding=case["output_padding"],
                  dilation_rate=case["dilation_rate"], data_format=fmt)
        a = ref_conv_transpose(x, w, how="direct", **kw)
        b = ref_conv_transpose(x, w, how="col2im", **kw)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=str(case))
        assert a.shape == tuple(keras_conv_transpose_output_shape(
            case["x_shape"], case["kernel_shape"][:nd], case["filters"], case["strides"], case["padding"],
            case["output_padding"], fmt, case["dilation_rate"])), case


def test_reference_transposed_geometry_is_kerass_jax_padding():
    """The output size Keras states equals what JAX's padding of the stretched input yields, and
    the zeros before that the reference derives from it; with output_padding None and "same",
    those zeros are TensorFlow's "same" padding of the forward convolution of the output."""
    for n, k, s, d in np.ndindex(7, 5, 5, 4):
        if not (n and k and s and d):
            continue
        e = _eff(k, d)
        for padding in ("valid", "same"):
            for op in [None] + list(range(s)):
                left, right = keras_jax_transpose_pads(k, s, d, padding, op)
                (before,), (out,) = transpose_geometry((n,), (k,), (s,), (d,), padding, op)
                assert (n - 1) * s + 1 + left + right - e + 1 == out, (n, k, s, d, padding, op)
                assert before == e - 1 - left
                if out >= 1:  # the forward convolution of `out` positions padded this way has n outputs
                    assert (out + before + ((n - 1) * s + e - out - before) - e) // s + 1 == n
                if padding == "same" and op is None:
                    assert before == same_pads(out, k, s, d)[0], (n, k, s, d)


@pytest.mark.parametrize("nd", [1, 2])
def test_reference_transposed_conv_is_the_adjoint_of_conv(nd):
    """<conv(x), y> == <x, conv_transpose(y)> with the same kernel, for Keras' transposed
    geometry (x has the transposed output's size) and for every forward geometry (groups too)."""
    rng = np.random.default_rng(40 + nd)
    for _ in range(30):
        case = draw_transpose(rng, nd)
        y, w = _normal(rng, case["x_shape"]), _normal(rng, case["kernel_shape"])
        kw = dict(strides=case["strides"], padding=case["padding"], output_padding=case["output_padding"],
                  dilation_rate=case["dilation_rate"])
        t = ref_conv_transpose(y, w, **kw)
        x = _normal(rng, t.shape)
        s, d, k = case["strides"], case["dilation_rate"], case["kernel_shape"][:nd]
        befores, out = transpose_geometry(y.shape[1:-1], k, s, d, case["padding"], case["output_padding"])
        pads = [(b, (n - 1) * si + _eff(ki, di) - o - b)
                for b, n, si, ki, di, o in zip(befores, y.shape[1:-1], s, k, d, out)]
        cx = conv_direct(x, w, s, d, pads)
        assert cx.shape == y.shape
        np.testing.assert_allclose(np.vdot(cx, y), np.vdot(x, t), rtol=1e-10, err_msg=str(case))
    for _ in range(30):
        case = draw_conv(rng, nd, ["valid", "same", "causal" if nd == 1 else "explicit"])
        x, w = _normal(rng, case["x_shape"]), _normal(rng, case["kernel_shape"])
        s, d = case["strides"], case["dilation_rate"]
        pads, out = conv_geometry(x.shape[1:-1], w.shape[:nd], s, d, case["padding"])
        y = _normal(rng, (x.shape[0], *out, w.shape[-1]))
        befores = [b for b, _ in pads]
        dx = conv_adjoint_direct(y, w, s, d, befores, x.shape[1:-1], x.shape[-1])
        np.testing.assert_allclose(dx, conv_adjoint_col2im(y, w, s, d, befores, x.shape[1:-1], x.shape[-1]),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.vdot(conv_direct(x, w, s, d, pads), y), np.vdot(x, dx), rtol=1e-10)
        # the kernel gradient: conv is linear in the kernel, so <conv(x, w), y> == <w, dW(x, y)>
        dw = conv_kernel_grad(x, y, w.shape[:nd], w.shape[-2], s, d, pads)
        np.testing.assert_allclose(np.vdot(conv_direct(x, w, s, d, pads), y), np.vdot(w, dw), rtol=1e-10)


def _central_differences(f, args, i, h=1e-6):
    """d f(*args) / d args[i] by central differences."""
    g = np.zeros_like(args[i])
    for j in np.ndindex(g.shape):
        up, down = list(args), list(args)
        up[i], down[i] = args[i].copy(), args[i].copy()
        up[i][j] += h
        down[i][j] -= h
        g[j] = (f(*up) - f(*down)) / (2 * h)
    return g


def test_reference_gradients_match_central_differences():
    """ref_conv_grads and ref_conv_transpose_grads against central differences of the reference
    itself, with a bias and a smooth activation, in both layouts."""
    rng = np.random.default_rng(50)
    for fmt, act in (("channels_last", "tanh"), ("channels_first", "sigmoid")):
        conv = draw_conv(rng, 2, ["same", "explicit"], fmt, max_side=4)
        tr = draw_transpose(rng, 2, fmt, max_side=3)
        for case, ref, ref_grads, extra in ((conv, ref_conv, ref_conv_grads, {}),
                                            (tr, ref_conv_transpose, ref_conv_transpose_grads,
                                             dict(output_padding=tr["output_padding"]))):
            kw = dict(strides=case["strides"], padding=case["padding"], dilation_rate=case["dilation_rate"],
                      data_format=fmt, activation=act, **extra)
            args = [_normal(rng, case[key]) for key in ("x_shape", "kernel_shape", "filters")]
            dy = _normal(rng, ref(*args, **kw).shape)
            grads = ref_grads(args[0], args[1], dy, args[2], **kw)
            for i in range(3):
                num = _central_differences(lambda *a: np.vdot(ref(*a, **kw), dy), args, i)  # noqa: B023
                np.testing.assert_allclose(grads[i], num, rtol=1e-6, atol=1e-7, err_msg=f"{case} input {i}")


def test_reference_dilation_is_a_zero_stuffed_kernel():
    """A kernel dilated by d equals the undilated convolution with d - 1 zeros between taps."""
    rng = np.random.default_rng(60)
    for _ in range(30):
        case = draw_conv(rng, 2, ["valid", "same", "explicit"])
        x, w = _normal(rng, case["x_shape"]), _normal(rng, case["kernel_shape"])
        (dh, dw_), (kh, kw) = case["dilation_rate"], w.shape[:2]
        stuffed = np.zeros((_eff(kh, dh), _eff(kw, dw_), *w.shape[2:]))
        stuffed[::dh, ::dw_] = w
        s = case["strides"]
        pads, _ = conv_geometry(x.shape[1:-1], w.shape[:2], s, (dh, dw_), case["padding"])
        np.testing.assert_allclose(conv_direct(x, w, s, (dh, dw_), pads),
                                   conv_im2col(x, stuffed, s, (1, 1), pads), rtol=1e-12, atol=1e-12)


def test_reference_depthwise_is_per_channel_convolution():
    """Output channel c * M + m is input channel c convolved with kernel[..., c, m] (Keras' order)."""
    rng = np.random.default_rng(70)
    for nd in (1, 2):
        for _ in range(10):
            case = draw_conv(rng, nd, ["valid", "same"], groups=False)
            c, mult = case["x_shape"][-1], int(rng.integers(1, 4))
            x, k = _normal(rng, case["x_shape"]), _normal(rng, (*case["kernel_shape"][:nd], c, mult))
            kw = dict(strides=case["strides"], padding=case["padding"], dilation_rate=case["dilation_rate"])
            got = ref_depthwise(x, k, **kw)
            for ci, m in np.ndindex(c, mult):
                one = ref_conv(x[..., ci:ci + 1], k[..., ci:ci + 1, m:m + 1], how="direct", **kw)
                np.testing.assert_allclose(got[..., ci * mult + m], one[..., 0], rtol=1e-12, atol=1e-12)


def test_reference_1d_is_numpys_correlate():
    rng = np.random.default_rng(80)
    for _ in range(40):
        n, k, s, d = (int(v) for v in rng.integers(1, [12, 5, 4, 4]))
        if _eff(k, d) > n:
            continue
        x, w = rng.standard_normal(n), rng.standard_normal(k)
        stuffed = np.zeros(_eff(k, d))
        stuffed[::d] = w
        for padding in ("valid", "same", "causal"):
            ((b, a),), _ = conv_geometry((n,), (k,), (s,), (d,), padding)
            want = np.correlate(np.concatenate([np.zeros(b), x, np.zeros(a)]), stuffed, "valid")[::s]
            got = ref_conv(x.reshape(1, n, 1), w.reshape(k, 1, 1), strides=s, padding=padding,
                           dilation_rate=d)
            np.testing.assert_allclose(got.ravel(), want, rtol=1e-12, atol=1e-12)


def test_reference_small_cases_worked_by_hand():
    def c1(x, w, **kw):
        return ref_conv(np.array(x, float).reshape(1, -1, 1), np.array(w, float).reshape(-1, 1, 1),
                        **kw).ravel()

    def t1(x, w, **kw):
        return ref_conv_transpose(np.array(x, float).reshape(1, -1, 1), np.array(w, float).reshape(-1, 1, 1),
                                  **kw).ravel()

    np.testing.assert_array_equal(c1([1, 2, 3, 4], [1, 0, -1]), [-2, -2])
    np.testing.assert_array_equal(c1([1, 2, 3, 4], [1, 1], strides=2), [3, 7])
    np.testing.assert_array_equal(c1([1, 2, 3, 4, 5], [1, 1], dilation_rate=3), [5, 7])
    np.testing.assert_array_equal(c1([1, 2, 3], [1, 1, 1], padding="same"), [3, 6, 5])
    np.testing.assert_array_equal(c1([1, 2, 3], [1, 10], padding="causal"), [10, 21, 32])
    np.testing.assert_array_equal(c1([1, 2, 3, 4], [1, 1, 1], padding="same", strides=2), [6, 7])  # (0, 1)
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(ref_conv(x, np.ones((2, 2, 1, 1))).ravel(), [8, 12, 20, 24])
    two = ref_conv(np.stack([x[..., 0], -x[..., 0]], -1), np.ones((1, 1, 1, 2)))  # 2 groups, 1 filter each
    np.testing.assert_array_equal(two[..., 0], x[..., 0])
    np.testing.assert_array_equal(two[..., 1], -x[..., 0])
    np.testing.assert_array_equal(t1([1, 1, 1], [1, 2], strides=2), [1, 2, 1, 2, 1, 2])
    np.testing.assert_array_equal(t1([1, 1, 1], [1, 2, 3]), [1, 3, 6, 5, 3])
    np.testing.assert_array_equal(t1([1, 1, 1], [1, 2, 3], strides=2, padding="same"), [1, 2, 4, 2, 4, 2])
    np.testing.assert_array_equal(t1([1, 1], [1, 2], strides=3), [1, 2, 0, 1, 2, 0])  # (n-1)*s + max(k, s)
    np.testing.assert_array_equal(t1([1, 1], [1, 2], strides=3, output_padding=1), [1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(t1([1, 1], [1, 2], strides=3, output_padding=0), [1, 2, 0, 1, 2])
    np.testing.assert_array_equal(t1([1, 1], [1, 2, 3], strides=1, dilation_rate=2), [1, 1, 2, 2, 3, 3])


# ====================================================================== pynn against the reference

TOL = {"float32": 1e-4, "float64": 1e-10}
ACT_NAMES = [None, "linear", "relu", "sigmoid", "tanh", "elu", "silu"]


def _seed(*parts):
    return zlib.crc32("-".join(map(str, parts)).encode())


def check(got, want, dtype, what=""):
    """got (a pynn Tensor) has the reference's shape, the input's dtype and its values: relative
    error ~1e-4 in float32 and ~1e-10 in float64, the same bound in absolute terms scaled by the
    largest value."""
    assert isinstance(got, pynn.Tensor), f"{what}: expected a pynn.Tensor, got {type(got).__name__}"
    a = np.asarray(got)
    assert a.shape == want.shape, f"{what}: shape {a.shape} != the reference's {want.shape}"
    assert a.dtype == np.dtype(dtype), f"{what}: dtype {a.dtype} != {dtype}"
    tol = TOL[dtype]
    np.testing.assert_allclose(a, want, rtol=tol, atol=tol * max(1.0, float(np.abs(want).max(initial=0))),
                               err_msg=what)


def T(a, dtype=None):
    a = np.asarray(a)
    return pynn.tensor(a if dtype is None else a.astype(dtype))


def _conv_kwargs(rng, case, nd):
    fmt = case["data_format"]
    return dict(strides=_arg(rng, case["strides"]), padding=case["padding"],
                data_format=None if fmt == "channels_last" and rng.random() < 0.3 else fmt,
                dilation_rate=_arg(rng, case["dilation_rate"]))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd", [1, 2])
def test_conv_matches_reference(nd, dtype, data_format):
    """ops.conv over random shapes, strides, dilations, groups and both paddings; data_format None
    is channels_last."""
    rng = np.random.default_rng(_seed("conv", nd, dtype, data_format))
    for _ in range(12):
        case = draw_conv(rng, nd, ["valid", "same"], data_format)
        x = _normal(rng, case["x_shape"]).astype(dtype)
        w = _normal(rng, case["kernel_shape"]).astype(dtype)
        kw = _conv_kwargs(rng, case, nd)
        check(ops.conv(T(x), T(w), **kw), ref_conv(x, w, **kw), dtype, str(case))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_conv1d_with_bias_activation_and_causal_padding(dtype, data_format):
    rng = np.random.default_rng(_seed("conv1d", dtype, data_format))
    for i in range(12):
        case = draw_conv(rng, 1, ["valid", "same", "causal"], data_format)
        x = _normal(rng, case["x_shape"]).astype(dtype)
        w = _normal(rng, case["kernel_shape"]).astype(dtype)
        b = None if i % 3 == 0 else _normal(rng, case["filters"]).astype(dtype)
        act = ACT_NAMES[i % len(ACT_NAMES)]
        kw = dict(strides=case["strides"][0], padding=case["padding"], dilation_rate=case["dilation_rate"][0],
                  data_format=data_format, activation=act)
        got = ops.conv1d(T(x), T(w), None if b is None else T(b), **kw)
        check(got, ref_conv(x, w, b, **kw), dtype, f"{case} bias={b is not None} activation={act}")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_conv2d_with_bias_activation_and_explicit_padding(dtype, data_format):
    rng = np.random.default_rng(_seed("conv2d", dtype, data_format))
    for i in range(14):
        case = draw_conv(rng, 2, ["valid", "same", "explicit"], data_format)
        x = _normal(rng, case["x_shape"]).astype(dtype)
        w = _normal(rng, case["kernel_shape"]).astype(dtype)
        b = None if i % 3 == 0 else _normal(rng, case["filters"]).astype(dtype)
        act = ACT_NAMES[i % len(ACT_NAMES)]
        kw = dict(strides=_arg(rng, case["strides"]), padding=case["padding"],
                  dilation_rate=_arg(rng, case["dilation_rate"]), data_format=data_format, activation=act)
        got = ops.conv2d(T(x), T(w), None if b is None else T(b), **kw)
        check(got, ref_conv(x, w, b, **kw), dtype, f"{case} bias={b is not None} activation={act}")


def _depthwise_case(rng, nd, data_format, paddings=("valid", "same")):
    case = draw_conv(rng, nd, list(paddings), data_format, groups=False)
    c = case["x_shape"][-1] if data_format == "channels_last" else case["x_shape"][1]
    mult = int(rng.integers(1, 4))
    return case, (*case["kernel_shape"][:nd], c, mult), c * mult


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd", [1, 2])
def test_depthwise_conv_matches_reference(nd, dtype, data_format):
    rng = np.random.default_rng(_seed("depthwise", nd, dtype, data_format))
    for i in range(10):
        case, kshape, cm = _depthwise_case(rng, nd, data_format)
        x = _normal(rng, case["x_shape"]).astype(dtype)
        k = _normal(rng, kshape).astype(dtype)
        kw = _conv_kwargs(rng, case, nd)
        check(ops.depthwise_conv(T(x), T(k), **kw), ref_depthwise(x, k, **kw), dtype,
              f"{case} kernel {kshape}")
        if nd == 2:
            b = None if i % 3 == 0 else _normal(rng, cm).astype(dtype)
            act = ACT_NAMES[i % len(ACT_NAMES)]
            kw = dict(strides=_arg(rng, case["strides"]), padding=case["padding"],
                      dilation_rate=_arg(rng, case["dilation_rate"]), data_format=data_format, activation=act)
            got = ops.depthwise_conv2d(T(x), T(k), None if b is None else T(b), **kw)
            check(got, ref_depthwise(x, k, b, **kw), dtype, f"depthwise_conv2d {case} activation={act}")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd", [1, 2])
def test_separable_conv_matches_reference(nd, dtype, data_format):
    rng = np.random.default_rng(_seed("separable", nd, dtype, data_format))
    for i in range(10):
        case, kshape, cm = _depthwise_case(rng, nd, data_format)
        f = int(rng.integers(1, 7))
        x = _normal(rng, case["x_shape"]).astype(dtype)
        dk = _normal(rng, kshape).astype(dtype)
        pk = _normal(rng, (1,) * nd + (cm, f)).astype(dtype)
        kw = _conv_kwargs(rng, case, nd)
        check(ops.separable_conv(T(x), T(dk), T(pk), **kw), ref_separable(x, dk, pk, **kw), dtype, str(case))
        if nd == 2:
            b = None if i % 3 == 0 else _normal(rng, f).astype(dtype)
            act = ACT_NAMES[i % len(ACT_NAMES)]
            kw = dict(strides=_arg(rng, case["strides"]), padding=case["padding"],
                      dilation_rate=_arg(rng, case["dilation_rate"]), data_format=data_format, activation=act)
            got = ops.separable_conv2d(T(x), T(dk), T(pk), None if b is None else T(b), **kw)
            check(got, ref_separable(x, dk, pk, b, **kw), dtype, f"separable_conv2d {case} activation={act}")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd", [1, 2])
def test_conv_transpose_matches_reference(nd, dtype, data_format):
    """ops.conv_transpose (and conv2d_transpose with a bias and an activation) over random shapes,
    strides, dilations, paddings and output paddings."""
    rng = np.random.default_rng(_seed("transpose", nd, dtype, data_format))
    for i in range(12):
        case = draw_transpose(rng, nd, data_format)
        x = _normal(rng, case["x_shape"]).astype(dtype)
        w = _normal(rng, case["kernel_shape"]).astype(dtype)
        op = case["output_padding"]
        kw = dict(strides=_arg(rng, case["strides"]), padding=case["padding"],
                  output_padding=None if op is None else _arg(rng, op),
                  data_format=None if data_format == "channels_last" and i % 2 else data_format,
                  dilation_rate=_arg(rng, case["dilation_rate"]))
        check(ops.conv_transpose(T(x), T(w), **kw), ref_conv_transpose(x, w, **kw), dtype, str(case))
        if nd == 2:
            b = None if i % 3 == 0 else _normal(rng, case["filters"]).astype(dtype)
            act = ACT_NAMES[i % len(ACT_NAMES)]
            kw = dict(kw, data_format=data_format, activation=act)
            got = ops.conv2d_transpose(T(x), T(w), None if b is None else T(b), **kw)
            check(got, ref_conv_transpose(x, w, b, **kw), dtype, f"conv2d_transpose {case} activation={act}")


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4])
def test_keras_conv1d_transpose_consistency_cases(kernel_size, padding):
    """Keras' test_conv1d_transpose_consistency: ones of length 3 through the kernel 1..k, strides
    1-4, output_padding None or below the stride, both layouts."""
    w = np.arange(1, kernel_size + 1, dtype=np.float32).reshape(kernel_size, 1, 1)
    for strides in range(1, 5):
        for output_padding in [None] + list(range(1, strides)):
            for fmt, shape in (("channels_last", (1, 3, 1)), ("channels_first", (1, 1, 3))):
                x = np.ones(shape, np.float32)
                kw = dict(strides=strides, padding=padding, output_padding=output_padding, data_format=fmt)
                check(ops.conv_transpose(T(x), T(w), **kw), ref_conv_transpose(x, w, **kw), "float32",
                      str(kw))


def _views(a):
    """(name, tensor) pairs holding a's values in other memory layouts: NumPy's Fortran order
    shared, a stepped slice, reversed (negative-stride) slices of a pynn tensor and of a NumPy
    array, and a transposed view."""
    yield "fortran", pynn.from_numpy(np.asfortranarray(a))
    yield "stepped", pynn.tensor(np.repeat(a, 2, axis=1))[:, ::2]
    yield "reversed", pynn.tensor(np.ascontiguousarray(a[::-1, ..., ::-1]))[::-1, ..., ::-1]
    yield "numpy-reversed", pynn.from_numpy(np.ascontiguousarray(a[:, ::-1])[:, ::-1])
    perm = tuple(reversed(range(a.ndim)))
    yield "transposed", pynn.transpose(pynn.tensor(np.ascontiguousarray(a.transpose(perm))), perm)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_non_contiguous_and_negative_stride_views(dtype, data_format):
    """Every op reads inputs and kernels through their strides (the 1x1 kernel too, which may read
    x as its own patches)."""
    rng = np.random.default_rng(_seed("views", dtype, data_format))
    cl = data_format == "channels_last"
    x = _normal(rng, (2, 5, 6, 4) if cl else (2, 4, 5, 6)).astype(dtype)
    x1 = _normal(rng, (3, 7, 4) if cl else (3, 4, 7)).astype(dtype)
    w = _normal(rng, (3, 2, 2, 6)).astype(dtype)  # 2 groups
    w11 = _normal(rng, (1, 1, 4, 3)).astype(dtype)
    w1 = _normal(rng, (2, 4, 5)).astype(dtype)
    dk = _normal(rng, (2, 3, 4, 2)).astype(dtype)
    pk = _normal(rng, (1, 1, 8, 3)).astype(dtype)
    wt = _normal(rng, (3, 2, 5, 4)).astype(dtype)
    b = _normal(rng, 6).astype(dtype)
    fmt = dict(data_format=data_format)
    cases = [
        ("conv same strided", lambda a, k: ops.conv(a, k, strides=(2, 1), padding="same", **fmt),
         lambda a, k: ref_conv(a, k, strides=(2, 1), padding="same", **fmt), x, w),
        ("conv 1x1", lambda a, k: ops.conv(a, k, **fmt), lambda a, k: ref_conv(a, k, **fmt), x, w11),
        ("conv 1x1 stride 2", lambda a, k: ops.conv(a, k, strides=2, **fmt),
         lambda a, k: ref_conv(a, k, strides=2, **fmt), x, w11),
        ("conv1d causal", lambda a, k: ops.conv1d(a, k, padding="causal", dilation_rate=2, **fmt),
         lambda a, k: ref_conv(a, k, padding="causal", dilation_rate=2, **fmt), x1, w1),
        ("conv2d bias relu",
         lambda a, k: ops.conv2d(a, k, T(b), padding=((1, 0), (2, 1)), activation="relu", **fmt),
         lambda a, k: ref_conv(a, k, b, padding=((1, 0), (2, 1)), activation="relu", **fmt), x, w),
        ("depthwise", lambda a, k: ops.depthwise_conv(a, k, padding="same", **fmt),
         lambda a, k: ref_depthwise(a, k, padding="same", **fmt), x, dk),
        ("separable", lambda a, k: ops.separable_conv(a, k, T(pk), **fmt),
         lambda a, k: ref_separable(a, k, pk, **fmt), x, dk),
        ("transpose", lambda a, k: ops.conv_transpose(a, k, strides=2, padding="same", **fmt),
         lambda a, k: ref_conv_transpose(a, k, strides=2, padding="same", **fmt), x, wt),
    ]
    for name, op, ref, a, k in cases:
        want = ref(a, k)
        for (vname, va), (kname, vk) in zip(_views(a), _views(k)):
            assert np.array_equal(np.asarray(va), a) and np.array_equal(np.asarray(vk), k)  # right views
            check(op(va, vk), want, dtype, f"{name}: input {vname}, kernel {kname}")
        check(op(T(a), T(k)), want, dtype, f"{name}: contiguous")


@pytest.mark.parametrize("dtype", FLOATS)
def test_size_one_dims(dtype):
    """Batch, sides, channels, filters and kernels of size 1; a 1-wide image under "same" with a
    3-wide kernel; groups equal to the channels; a transposed convolution of one pixel."""
    rng = np.random.default_rng(_seed("ones", dtype))
    cases = [  # (op, x shape, kernel shape, keyword arguments)
        ("conv", (1, 1, 1, 1), (1, 1, 1, 1), {}),
        ("conv", (1, 1, 1, 3), (3, 3, 3, 2), dict(padding="same")),
        ("conv", (1, 1, 1, 3), (3, 3, 3, 2), dict(padding="same", strides=2, dilation_rate=2)),
        ("conv", (2, 5, 1, 1), (2, 1, 1, 1), dict(strides=(2, 1))),
        ("conv", (1, 4, 4, 3), (1, 1, 3, 5), {}),
        ("conv", (1, 3, 4, 4), (1, 1, 3, 1), dict(data_format="channels_first")),
        ("conv", (1, 3, 3, 4), (2, 2, 1, 4), dict(padding="same")),  # groups == channels
        ("conv", (1, 3, 3, 4), (2, 2, 2, 2), {}),  # 2 groups of 1 filter
        ("conv", (1, 1, 1), (1, 1, 1), {}),
        ("conv", (3, 1, 2), (4, 2, 1), dict(padding="same")),
        ("conv1d", (2, 1, 2), (3, 2, 1), dict(padding="causal")),
        ("depthwise_conv", (1, 1, 1, 1), (1, 1, 1, 1), {}),
        ("depthwise_conv", (1, 2, 1, 1), (2, 1, 1, 3), {}),
        ("conv_transpose", (1, 1, 1, 1), (1, 1, 1, 1), dict(strides=3)),
        ("conv_transpose", (1, 1, 1, 2), (3, 3, 1, 2), dict(padding="same", strides=2)),
        ("conv_transpose", (1, 1, 1), (2, 1, 1), {}),
    ]
    refs = {"conv": ref_conv, "conv1d": ref_conv, "depthwise_conv": ref_depthwise,
            "conv_transpose": ref_conv_transpose}
    for name, xs, ks, kw in cases:
        x, k = _normal(rng, xs).astype(dtype), _normal(rng, ks).astype(dtype)
        check(getattr(ops, name)(T(x), T(k), **kw), refs[name](x, k, **kw), dtype, f"{name} {xs} {ks} {kw}")


# ---------------------------------------------------------------- gradients

def _tape(fn, arrays, dy):
    """fn(*tensors) and the gradients of sum(dy * fn(*tensors)) with respect to each tensor."""
    ts = [pynn.tensor(a) for a in arrays]
    with pynn.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        y = fn(*ts)
        loss = ops.sum(ops.multiply(y, pynn.tensor(dy)))
    return y, tape.gradient(loss, ts)


def ref_separable_grads(x, dk, pk, dy, bias=None, strides=1, padding="valid", dilation_rate=1,
                        data_format=None, activation=None):
    """(dx, ddepthwise, dpointwise, dbias): the pointwise convolution's gradients, then the
    depthwise (grouped) convolution's for the gradient of its output."""
    h = ref_depthwise(x, dk, None, strides, padding, dilation_rate, data_format)
    dh, dpk, db = ref_conv_grads(h, pk, dy, bias, 1, "valid", 1, data_format, activation)
    dx, dg, _ = ref_conv_grads(x, _depthwise_as_grouped(dk), dh, None, strides, padding, dilation_rate,
                               data_format)
    return dx, dg.reshape(dk.shape), dpk, db


def _depthwise_grads(x, k, dy, bias=None, **kw):
    dx, dg, db = ref_conv_grads(x, _depthwise_as_grouped(k), dy, bias, **kw)
    return dx, dg.reshape(k.shape), db


def _grad_cases(rng, data_format, dtype, size):
    """(name, fn of tensors, arrays, reference output, reference gradients of sum(dy * output))
    for every op, with a bias where it takes one; smooth activations only, so that float32 and
    float64 agree on the derivative everywhere."""
    cl = data_format == "channels_last"
    n, h, c = size
    fmt = dict(data_format=data_format)
    x = _normal(rng, (n, h, h + 1, c) if cl else (n, c, h, h + 1)).astype(dtype)
    x1 = _normal(rng, (n, h + 2, c) if cl else (n, c, h + 2)).astype(dtype)
    shapes = {"w": (3, 3, c // 2, 2 * c), "b": (2 * c,), "w1": (3, c, 5), "b1": (5,), "dk": (3, 2, c, 2),
              "db": (2 * c,), "pk": (1, 1, 2 * c, 3), "pb": (3,), "wt": (3, 3, 4, c), "bt": (4,),
              "wg": (2, 2, 2, c)}
    a = {key: _normal(rng, s).astype(dtype) for key, s in shapes.items()}
    geo = dict(strides=(2, 1), padding="same", **fmt)
    tr = dict(strides=2, padding="same", output_padding=(1, 0), activation="sigmoid", **fmt)
    return [
        ("conv (2 groups, dilated)",
         lambda x_, w: ops.conv(x_, w, dilation_rate=(1, 2), padding="same", **fmt),
         [x, a["w"]], ref_conv(x, a["w"], dilation_rate=(1, 2), padding="same", **fmt),
         lambda dy: ref_conv_grads(x, a["w"], dy, dilation_rate=(1, 2), padding="same", **fmt)[:2]),
        ("conv2d + bias + tanh", lambda x_, w, b: ops.conv2d(x_, w, b, activation="tanh", **geo),
         [x, a["w"], a["b"]], ref_conv(x, a["w"], a["b"], activation="tanh", **geo),
         lambda dy: ref_conv_grads(x, a["w"], dy, a["b"], activation="tanh", **geo)),
        ("conv1d causal + bias + sigmoid",
         lambda x_, w, b: ops.conv1d(x_, w, b, padding="causal", dilation_rate=2, activation="sigmoid",
                                     **fmt),
         [x1, a["w1"], a["b1"]],
         ref_conv(x1, a["w1"], a["b1"], padding="causal", dilation_rate=2, activation="sigmoid", **fmt),
         lambda dy: ref_conv_grads(x1, a["w1"], dy, a["b1"], padding="causal", dilation_rate=2,
                                   activation="sigmoid", **fmt)),
        ("depthwise_conv2d + bias", lambda x_, k, b: ops.depthwise_conv2d(x_, k, b, **geo),
         [x, a["dk"], a["db"]], ref_depthwise(x, a["dk"], a["db"], **geo),
         lambda dy: _depthwise_grads(x, a["dk"], dy, a["db"], **geo)),
        ("separable_conv2d + bias + tanh",
         lambda x_, k, p, b: ops.separable_conv2d(x_, k, p, b, activation="tanh", **geo),
         [x, a["dk"], a["pk"], a["pb"]],
         ref_separable(x, a["dk"], a["pk"], a["pb"], activation="tanh", **geo),
         lambda dy: ref_separable_grads(x, a["dk"], a["pk"], dy, a["pb"], activation="tanh", **geo)),
        ("conv2d_transpose + bias + sigmoid", lambda x_, w, b: ops.conv2d_transpose(x_, w, b, **tr),
         [x, a["wt"], a["bt"]], ref_conv_transpose(x, a["wt"], a["bt"], **tr),
         lambda dy: ref_conv_transpose_grads(x, a["wt"], dy, a["bt"], **tr)),
        ("conv_transpose dilated", lambda x_, w: ops.conv_transpose(x_, w, dilation_rate=2, **fmt),
         [x, a["wg"]], ref_conv_transpose(x, a["wg"], dilation_rate=2, **fmt),
         lambda dy: ref_conv_transpose_grads(x, a["wg"], dy, dilation_rate=2, **fmt)[:2]),
    ]


def _check_values_and_gradients(rng, data_format, dtype, size, where):
    for name, fn, arrays, want, grads in _grad_cases(rng, data_format, dtype, size):
        dy = _normal(rng, want.shape).astype(dtype)
        y, got = _tape(fn, arrays, dy)
        what = f"{name}, {data_format}, {dtype}, {where}"
        check(y, want, dtype, what)
        for i, (g, wg) in enumerate(zip(got, grads(dy))):
            assert g is not None, f"{what}: no gradient for input {i}"
            check(g, wg, dtype, f"{what}: gradient of input {i}")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_gradients_match_reference(dtype, data_format):
    """The tape's gradients for inputs, kernels and biases against the reference's adjoints, in
    float32 as well as float64."""
    rng = np.random.default_rng(_seed("grads", dtype, data_format))
    _check_values_and_gradients(rng, data_format, dtype, (2, 5, 4), "small")


def test_gradients_on_one_and_two_threads(threads):  # noqa: F811
    """Shapes big enough for the work to be split (Note [Convolution]: one image per thread in
    col2im), against the reference on each thread count."""
    rng = np.random.default_rng(_seed("threads", threads))
    for fmt in FORMATS:
        _check_values_and_gradients(rng, fmt, "float32", (4, 14, 8), f"{threads} threads")
    _check_values_and_gradients(rng, "channels_last", "float64", (3, 12, 8), f"{threads} threads")


def test_every_simd_path(isa):  # noqa: F811
    rng = np.random.default_rng(_seed("isa", isa))
    for dtype in FLOATS:
        _check_values_and_gradients(rng, "channels_last", dtype, (2, 11, 8), f"isa {isa}")


def _away_from_relu_kink(rng, make, forward, margin=1e-3):
    """Arrays from make(rng) whose pre-activation (forward(arrays), from the reference) keeps
    `margin` away from 0, so that central differences do not straddle relu's kink."""
    for _ in range(200):
        arrays = make(rng)
        if np.abs(forward(*arrays)).min() > margin:
            return arrays
    raise AssertionError("no draw kept away from the kink")  # pragma: no cover


GRADCHECK_CASES = {  # name: (op name, shapes of the differentiated arrays, keyword arguments, reference)
    "conv1d-same-strided-channels-first": (
        "conv1d", [(2, 3, 6), (3, 3, 4), (4,)], dict(strides=2, padding="same", data_format="channels_first"),
        ref_conv),
    "conv1d-causal-dilated": (
        "conv1d", [(2, 6, 2), (2, 2, 3), (3,)], dict(padding="causal", dilation_rate=2), ref_conv),
    "conv2d-valid-groups-channels-first": (
        "conv2d", [(2, 4, 5, 4), (2, 3, 2, 4), (4,)], dict(strides=(2, 1), data_format="channels_first"),
        ref_conv),
    "conv2d-same-dilated": (
        "conv2d", [(1, 5, 4, 2), (2, 2, 2, 3), (3,)], dict(padding="same", dilation_rate=2), ref_conv),
    "conv2d-explicit": (
        "conv2d", [(2, 3, 4, 2), (3, 2, 2, 2), (2,)], dict(padding=((1, 2), (0, 1)), strides=2), ref_conv),
    "depthwise_conv2d": (
        "depthwise_conv2d", [(2, 5, 4, 2), (3, 2, 2, 2), (4,)], dict(strides=2, padding="same"),
        ref_depthwise),
    "separable_conv2d": (
        "separable_conv2d", [(1, 4, 5, 2), (2, 2, 2, 2), (1, 1, 4, 3), (3,)],
        dict(padding="same", data_format="channels_last"), ref_separable),
    "conv2d_transpose-valid-strided": (
        "conv2d_transpose", [(2, 3, 2, 2), (2, 3, 3, 2), (3,)], dict(strides=2), ref_conv_transpose),
    "conv2d_transpose-same-output-padding-channels-first": (
        "conv2d_transpose", [(1, 2, 3, 3), (3, 2, 2, 2), (2,)],
        dict(strides=(2, 3), padding="same", output_padding=(1, 2), data_format="channels_first"),
        ref_conv_transpose),
    "conv2d_transpose-dilated": (
        "conv2d_transpose", [(1, 3, 3, 2), (2, 2, 2, 2), (2,)], dict(dilation_rate=2, padding="same"),
        ref_conv_transpose),
}


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_gradcheck(name, activation):
    """pynn.utils.gradcheck (central differences, float64) for every input, kernel and bias, with
    and without a fused activation; the output is weighted by a random array so that every
    output position matters differently."""
    op_name, shapes, kw, ref = GRADCHECK_CASES[name]
    op = getattr(ops, op_name)
    rng = np.random.default_rng(_seed("gradcheck", name, activation))
    arrays = _away_from_relu_kink(rng, lambda r: [_normal(r, s) for s in shapes],
                                  lambda *a: ref(*a, **kw))
    r = pynn.tensor(_normal(rng, ref(*arrays, **kw).shape))
    np.testing.assert_allclose(np.asarray(op(*[T(a) for a in arrays], activation=activation, **kw)),
                               ref(*arrays, activation=activation, **kw), rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda *t: ops.multiply(op(*t, activation=activation, **kw), r), arrays)


@pytest.mark.parametrize("name", ["conv", "depthwise_conv", "separable_conv", "conv_transpose"])
def test_gradcheck_keras_ops_1d(name):
    """The Keras-style ops without a bias, on 3-D inputs, channels_first."""
    rng = np.random.default_rng(_seed("gradcheck-ops", name))
    fmt = dict(data_format="channels_first")
    arrays, kw = {
        "conv": ([(2, 4, 5), (2, 2, 4)], dict(strides=2, padding="same", dilation_rate=1)),
        "depthwise_conv": ([(2, 3, 6), (3, 3, 2)], dict(padding="same", dilation_rate=2)),
        "separable_conv": ([(1, 2, 5), (2, 2, 2), (1, 4, 3)], dict(strides=2)),
        "conv_transpose": ([(2, 3, 3), (3, 2, 3)], dict(strides=2, padding="same", output_padding=1)),
    }[name]
    arrays = [_normal(rng, s) for s in arrays]
    r = pynn.tensor(_normal(rng, np.asarray(getattr(ops, name)(*[T(a) for a in arrays], **kw, **fmt)).shape))
    assert gradcheck(lambda *t: ops.multiply(getattr(ops, name)(*t, **kw, **fmt), r), arrays)


# ====================================================================== layers

LAYER_CLASSES = {name: getattr(layers, name, None) for name in
                 ("Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")}


def _cls(kind):
    cls = LAYER_CLASSES[kind]
    assert cls is not None, f"pynn.layers has no {kind}"
    return cls


def _channels(kw, x_shape):
    return x_shape[1] if kw.get("data_format") == "channels_first" else x_shape[-1]


def layer_weight_shapes(kind, kw, x_shape):
    """The weights in Keras' order and shapes: kernel (and bias); DepthwiseConv2D's kernel is
    (kh, kw, C, multiplier); SeparableConv2D's depthwise_kernel, pointwise_kernel (1, 1, C * M, F)."""
    c, nd = _channels(kw, x_shape), 1 if kind == "Conv1D" else 2
    k = _tup(kw["kernel_size"], nd)
    bias = kw.get("use_bias", True)
    if kind in ("Conv1D", "Conv2D"):
        f = kw["filters"]
        return [(*k, c // kw.get("groups", 1), f)] + [(f,)] * bias
    m = kw.get("depth_multiplier", 1)
    if kind == "DepthwiseConv2D":
        return [(*k, c, m)] + [(c * m,)] * bias
    if kind == "SeparableConv2D":
        f = kw["filters"]
        return [(*k, c, m), (1, 1, c * m, f)] + [(f,)] * bias
    f = kw["filters"]
    return [(*k, f, c)] + [(f,)] * bias


def layer_reference(kind, kw, x, weights):
    """The reference for a layer with these arguments and weights (in layer_weight_shapes' order)."""
    common = dict(strides=kw.get("strides", 1), padding=kw.get("padding", "valid"),
                  dilation_rate=kw.get("dilation_rate", 1), data_format=kw.get("data_format") or CL,
                  activation=kw.get("activation"))
    bias = weights[-1] if kw.get("use_bias", True) else None
    if kind in ("Conv1D", "Conv2D"):
        return ref_conv(x, weights[0], bias, **common)
    if kind == "DepthwiseConv2D":
        return ref_depthwise(x, weights[0], bias, **common)
    if kind == "SeparableConv2D":
        return ref_separable(x, weights[0], weights[1], bias, **common)
    return ref_conv_transpose(x, weights[0], bias, output_padding=kw.get("output_padding"), **common)


def draw_layer(rng, kind, data_format):
    """Random layer arguments and an input shape (strides > 1 and dilation > 1 apart, as Keras' layers
    require)."""
    nd = 1 if kind == "Conv1D" else 2
    fmt = dict(data_format=data_format if data_format == "channels_first" or rng.random() < 0.5 else None)
    kw = dict(activation=[None, "relu", "tanh", "sigmoid", "elu"][int(rng.integers(5))],
              use_bias=bool(rng.random() < 0.7), **fmt)
    if kind == "Conv2DTranspose":
        case = draw_transpose(rng, 2, data_format)
        if rng.random() < 0.5:
            case["dilation_rate"] = (1, 1)
        else:
            case["strides"], case["output_padding"] = (1, 1), None
        spatial = _spatial_last(np.empty(case["x_shape"]), data_format)
        if min(transpose_geometry(spatial, case["kernel_shape"][:2], case["strides"], case["dilation_rate"],
                                  case["padding"], case["output_padding"])[1]) < 1:
            return draw_layer(rng, kind, data_format)
        kw.update(filters=case["filters"], output_padding=case["output_padding"])
    else:
        paddings = ["valid", "same"] + (["causal"] if nd == 1 else [])
        case = draw_conv(rng, nd, paddings, data_format, groups=kind in ("Conv1D", "Conv2D"))
        if rng.random() < 0.5:
            case["dilation_rate"] = (1,) * nd
        else:
            case["strides"] = (1,) * nd
        spatial = _spatial_last(np.empty(case["x_shape"]), data_format)
        if min(conv_geometry(spatial, case["kernel_shape"][:nd], case["strides"], case["dilation_rate"],
                             case["padding"])[1]) < 1:
            return draw_layer(rng, kind, data_format)
        if kind in ("Conv1D", "Conv2D"):
            kw.update(filters=case["filters"], groups=case["groups"])
        else:
            kw.update(depth_multiplier=int(rng.integers(1, 4)))
            if kind == "SeparableConv2D":
                kw.update(filters=int(rng.integers(1, 7)))
    kw.update(kernel_size=_arg(rng, case["kernel_shape"][:nd]), strides=_arg(rng, case["strides"]),
              padding=case["padding"], dilation_rate=_arg(rng, case["dilation_rate"]))
    return kw, case["x_shape"]


def _weight_attrs(kind, use_bias):
    names = ["depthwise_kernel", "pointwise_kernel"] if kind == "SeparableConv2D" else ["kernel"]
    return names + ["bias"] * use_bias


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", sorted(LAYER_CLASSES))
def test_layer_matches_reference_after_set_weights(kind, dtype, data_format):
    """Random arguments: the weights' shapes and order, set_weights, the output against the
    reference, compute_output_shape, count_params, and the get_config round trip."""
    rng = np.random.default_rng(_seed("layer", kind, dtype, data_format))
    cls = _cls(kind)
    for _ in range(4):
        kw, x_shape = draw_layer(rng, kind, data_format)
        what = f"{kind}({kw}) on {x_shape}"
        layer = cls(dtype=dtype, **kw)
        x = _normal(rng, x_shape).astype(dtype)
        layer(T(x))
        shapes = layer_weight_shapes(kind, kw, x_shape)
        assert [tuple(w.shape) for w in layer.get_weights()] == shapes, what
        assert layer.count_params() == sum(math.prod(s) for s in shapes), what
        assert len(layer.trainable_weights) == len(shapes) and not layer.non_trainable_weights, what
        weights = [_normal(rng, s).astype(dtype) for s in shapes]
        layer.set_weights(weights)
        for attr, w in zip(_weight_attrs(kind, kw["use_bias"]), weights):
            np.testing.assert_array_equal(np.asarray(getattr(layer, attr)), w, err_msg=f"{what}: {attr}")
        if not kw["use_bias"]:
            assert layer.bias is None, what
        y = layer(T(x))
        check(y, layer_reference(kind, kw, x, weights), dtype, what)
        assert tuple(layer.compute_output_shape(x_shape)) == y.shape, what
        config = layer.get_config()
        twin = cls.from_config(config)
        assert twin.get_config() == config, what
        twin(T(x))
        twin.set_weights(weights)
        np.testing.assert_array_equal(np.asarray(twin(T(x))), np.asarray(y), err_msg=what)


# ---------------------------------------------------------------- the numbers Keras' tests state

CL, CF = "channels_last", "channels_first"
KERAS_SHAPES = [  # (class, arguments, input shape, output shape, trainable weights)
    # conv_test.py, ConvBasicTest.test_conv1d_basic
    ("Conv1D", dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format=CL, dilation_rate=1,
                    groups=1), (3, 5, 4), (3, 4, 5), 2),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=1, padding="same", data_format=CL, dilation_rate=(2,),
                    groups=2), (3, 4, 4), (3, 4, 6), 2),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=1, padding="causal", data_format=CL, dilation_rate=(2,),
                    groups=2), (3, 4, 4), (3, 4, 6), 2),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=(2,), padding="valid", data_format=CL, dilation_rate=1,
                    groups=2), (3, 5, 4), (3, 2, 6), 2),
    # conv_test.py, ConvBasicTest.test_conv2d_basic
    ("Conv2D", dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format=CL, dilation_rate=1,
                    groups=1), (3, 5, 5, 4), (3, 4, 4, 5), 2),
    ("Conv2D", dict(filters=6, kernel_size=2, strides=1, padding="same", data_format=CL, dilation_rate=(2, 2),
                    groups=2), (3, 4, 4, 4), (3, 4, 4, 6), 2),
    ("Conv2D", dict(filters=6, kernel_size=(2, 2), strides=(2, 1), padding="valid", data_format=CL,
                    dilation_rate=(1, 1), groups=2), (3, 5, 5, 4), (3, 2, 4, 6), 2),
    # conv_test.py, the test_enable_lora cases (batch None there)
    ("Conv1D", dict(filters=6, kernel_size=3, strides=1, padding="valid", groups=1), (2, 5, 4), (2, 3, 6), 2),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=2, padding="valid", groups=2), (2, 5, 4), (2, 2, 6), 2),
    ("Conv2D", dict(filters=6, kernel_size=3, strides=1, padding="valid", groups=1), (2, 5, 5, 4),
     (2, 3, 3, 6), 2),
    ("Conv2D", dict(filters=6, kernel_size=2, strides=2, padding="valid", groups=2), (2, 5, 5, 4),
     (2, 2, 2, 6), 2),
    # conv_test.py, test_lora_rank_argument without the LoRA: Conv2D(5, 3, activation="sigmoid")
    ("Conv2D", dict(filters=5, kernel_size=3, activation="sigmoid", data_format=CL), (2, 5, 5, 4),
     (2, 3, 3, 5), 2),
    # depthwise_conv_test.py, test_depthwise_conv2d_basic
    ("DepthwiseConv2D", dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", data_format=CL,
                             dilation_rate=1), (3, 5, 5, 4), (3, 4, 4, 20), 2),
    ("DepthwiseConv2D", dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", data_format=CL,
                             dilation_rate=(2, 2)), (3, 4, 4, 4), (3, 4, 4, 24), 2),
    ("DepthwiseConv2D", dict(depth_multiplier=6, kernel_size=(2, 2), strides=(2, 2), padding="valid",
                             data_format=CL, dilation_rate=(1, 1)), (3, 5, 5, 4), (3, 2, 2, 24), 2),
    # separable_conv_test.py, test_separable_conv2d_basic
    ("SeparableConv2D", dict(depth_multiplier=5, filters=5, kernel_size=2, strides=1, padding="valid",
                             data_format=CL, dilation_rate=1), (3, 5, 5, 4), (3, 4, 4, 5), 3),
    ("SeparableConv2D", dict(depth_multiplier=6, filters=6, kernel_size=2, strides=1, padding="same",
                             data_format=CL, dilation_rate=(2, 2)), (3, 4, 4, 4), (3, 4, 4, 6), 3),
    ("SeparableConv2D", dict(depth_multiplier=6, filters=6, kernel_size=(2, 2), strides=(2, 2),
                             padding="valid", data_format=CL, dilation_rate=(1, 1)), (3, 5, 5, 4),
     (3, 2, 2, 6), 3),
    # conv_transpose_test.py, test_conv2d_transpose_basic
    ("Conv2DTranspose", dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None,
                             data_format=CL, dilation_rate=1), (2, 8, 8, 4), (2, 16, 16, 5), 2),
    ("Conv2DTranspose", dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2,
                             data_format=CL, dilation_rate=(1, 1)), (2, 8, 8, 4), (2, 23, 23, 6), 2),
    ("Conv2DTranspose", dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding="valid",
                             output_padding=None, data_format=CF, dilation_rate=(1, 1)), (2, 4, 8, 8),
     (2, 6, 16, 10), 2),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding="valid",
                             output_padding=None, data_format=CL, dilation_rate=(1, 1)), (1, 14, 14, 2),
     (1, 224, 224, 2), 2),
]


def _shape_id(case):
    kind, kw, x_shape, out_shape = case[:4]
    dims = "-".join("x".join(map(str, s)) for s in (x_shape, out_shape))
    return f"{kind}-{dims}-{kw.get('padding', 'valid')}"


@pytest.mark.parametrize("case", KERAS_SHAPES, ids=[_shape_id(c) for c in KERAS_SHAPES])
def test_reference_gives_kerass_stated_shapes(case):
    kind, kw, x_shape, out_shape, _ = case
    x = np.zeros(x_shape)
    weights = [np.zeros(s) for s in layer_weight_shapes(kind, kw, x_shape)]
    assert layer_reference(kind, kw, x, weights).shape == out_shape


@pytest.mark.parametrize("case", KERAS_SHAPES, ids=[_shape_id(c) for c in KERAS_SHAPES])
def test_keras_output_shapes_and_weight_counts(case):
    """The shapes and weight counts Keras' *_basic tests state, eagerly, from compute_output_shape
    and through a symbolic Input (batch None)."""
    kind, kw, x_shape, out_shape, n_weights = case
    layer = _cls(kind)(**kw)
    rng = np.random.default_rng(_seed("keras-shapes", _shape_id(case)))
    y = layer(T(_normal(rng, x_shape), "float32"))
    assert y.shape == out_shape
    assert len(layer.trainable_weights) == n_weights and len(layer.non_trainable_weights) == 0
    assert tuple(layer.compute_output_shape(x_shape)) == out_shape
    symbolic = _cls(kind)(**kw)(layers.Input(shape=x_shape[1:]))
    assert tuple(symbolic.shape) == (None,) + out_shape[1:]


KERAS_VALUES = [  # (class, arguments, input shape): the *CorrectnessTest cases, weights drawn at random
    ("Conv1D", dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format=CL, dilation_rate=1,
                    groups=1), (2, 8, 4)),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=1, padding="same", data_format=CL, dilation_rate=(2,),
                    groups=2), (2, 8, 4)),
    ("Conv1D", dict(filters=6, kernel_size=2, strides=1, padding="causal", data_format=CL, dilation_rate=(2,),
                    groups=2), (2, 8, 4)),
    ("Conv1D", dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", data_format=CL,
                    dilation_rate=1, groups=2), (2, 8, 4)),
    ("Conv1D", dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", data_format=CF,
                    dilation_rate=1, groups=2), (2, 8, 4)),
    ("Conv2D", dict(filters=5, kernel_size=2, strides=1, padding="valid", data_format=CL, dilation_rate=1,
                    groups=1), (2, 8, 8, 4)),
    ("Conv2D", dict(filters=4, kernel_size=3, strides=2, padding="same", data_format=CL, dilation_rate=1,
                    groups=1), (2, 8, 8, 4)),
    ("Conv2D", dict(filters=6, kernel_size=2, strides=1, padding="same", data_format=CL, dilation_rate=(2, 2),
                    groups=2), (2, 8, 8, 4)),
    ("Conv2D", dict(filters=6, kernel_size=2, strides=1, padding="same", data_format=CL, dilation_rate=(2, 3),
                    groups=2), (2, 8, 8, 4)),
    ("Conv2D", dict(filters=6, kernel_size=(4, 3), strides=(2, 1), padding="valid", data_format=CL,
                    dilation_rate=(1, 1), groups=2), (2, 8, 8, 4)),
    ("Conv2D", dict(filters=6, kernel_size=(4, 3), strides=(2, 1), padding="valid", data_format=CF,
                    dilation_rate=(1, 1), groups=2), (2, 8, 8, 4)),
    ("DepthwiseConv2D", dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", data_format=CL,
                             dilation_rate=1), (2, 8, 8, 4)),
    ("DepthwiseConv2D", dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", data_format=CL,
                             dilation_rate=(2, 2)), (2, 8, 8, 4)),
    ("DepthwiseConv2D", dict(depth_multiplier=6, kernel_size=(2, 2), strides=(2, 2), padding="valid",
                             data_format=CL, dilation_rate=(1, 1)), (2, 8, 8, 4)),
    ("SeparableConv2D", dict(depth_multiplier=5, filters=5, kernel_size=2, strides=1, padding="valid",
                             data_format=CL, dilation_rate=1), (2, 8, 8, 4)),
    ("SeparableConv2D", dict(depth_multiplier=6, filters=6, kernel_size=2, strides=1, padding="same",
                             data_format=CL, dilation_rate=(2, 2)), (2, 8, 8, 4)),
    ("SeparableConv2D", dict(depth_multiplier=6, filters=6, kernel_size=(2, 2), strides=(2, 2),
                             padding="valid", data_format=CL, dilation_rate=(1, 1)), (2, 8, 8, 4)),
    ("Conv2DTranspose", dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None,
                             data_format=CL, dilation_rate=1), (2, 14, 14, 4)),
    ("Conv2DTranspose", dict(filters=6, kernel_size=7, strides=16, padding="same", output_padding=2,
                             data_format=CL, dilation_rate=(1, 1)), (2, 14, 14, 4)),
    ("Conv2DTranspose", dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding="valid",
                             output_padding=None, data_format=CL, dilation_rate=(1, 1)), (2, 14, 14, 4)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding="valid",
                             output_padding=None, data_format=CL, dilation_rate=(1, 1)), (2, 14, 14, 4)),
]


@pytest.mark.parametrize("case", KERAS_VALUES, ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_VALUES)])
def test_keras_correctness_cases(case):
    """Keras' *CorrectnessTest cases: normal inputs and weights, float32 layers, against the
    reference (which agrees with the NumPy references in those tests)."""
    kind, kw, x_shape = case
    rng = np.random.default_rng(_seed("keras-values", kind, x_shape, sorted(kw.items())))
    layer = _cls(kind)(**kw)
    x = _normal(rng, x_shape).astype(np.float32)
    layer(T(x))
    shapes = layer_weight_shapes(kind, kw, x_shape)
    weights = [_normal(rng, s).astype(np.float32) for s in shapes]
    layer.set_weights(weights)
    check(layer(T(x)), layer_reference(kind, kw, x, weights), "float32", f"{kind}({kw})")


def test_keras_output_padding_survives_the_config():
    """conv_transpose_test.py test_output_padding_serialization: Conv2DTranspose(2, 3, strides=2,
    output_padding=1) on (1, 5, 5, 3) gives (1, 12, 12, 2) before and after the round trip."""
    layer = _cls("Conv2DTranspose")(2, 3, strides=2, output_padding=1)
    config = layer.get_config()
    assert "output_padding" in config and tuple(_tup(config["output_padding"], 2)) == (1, 1)
    revived = _cls("Conv2DTranspose").from_config(config)
    before, after = layer.compute_output_shape((1, 5, 5, 3)), revived.compute_output_shape((1, 5, 5, 3))
    assert tuple(before) == tuple(after) == (1, 12, 12, 2)


KERAS_BAD_ARGS = [  # (class, arguments, the argument the error must name): the *test_bad_init_args cases
    ("Conv1D", dict(filters=0, kernel_size=1), "filters"),
    ("Conv2D", dict(filters=2, kernel_size=(1, 0)), "kernel_size"),
    ("Conv2D", dict(filters=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
    ("Conv2D", dict(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1)), "dilation"),
    ("Conv2D", dict(filters=5, kernel_size=(2, 2), groups=0), "groups"),
    ("Conv2D", dict(filters=5, kernel_size=(2, 2), groups=2), "groups"),
    ("Conv2D", dict(filters=2, kernel_size=2, padding="causal"), "padding"),  # causal is 1-D only in Keras
    ("Conv2D", dict(filters=2, kernel_size=2, padding="full"), "padding"),
    ("Conv2DTranspose", dict(filters=0, kernel_size=1), "filters"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(1, 0)), "kernel_size"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=3), "output_padding"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 3)),
     "output_padding"),
    ("Conv2DTranspose", dict(filters=16, kernel_size=3, strides=[1, 1], output_padding=1), "output_padding"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1)), "dilation"),
    ("DepthwiseConv2D", dict(depth_multiplier=0, kernel_size=1), "depth_multiplier"),
    ("DepthwiseConv2D", dict(depth_multiplier=2, kernel_size=(1, 0)), "kernel_size"),
    ("DepthwiseConv2D", dict(depth_multiplier=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
    ("SeparableConv2D", dict(depth_multiplier=0, filters=1, kernel_size=1), "depth_multiplier"),
    ("SeparableConv2D", dict(depth_multiplier=1, filters=0, kernel_size=1), "filters"),
    ("SeparableConv2D", dict(depth_multiplier=2, filters=2, kernel_size=(1, 0)), "kernel_size"),
    ("SeparableConv2D", dict(depth_multiplier=2, filters=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
]


@pytest.mark.parametrize("case", KERAS_BAD_ARGS,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(KERAS_BAD_ARGS)])
def test_keras_bad_init_args(case):
    kind, kw, name = case
    with pytest.raises(ValueError, match=name):
        _cls(kind)(**kw)


def test_keras_output_sizes_that_would_be_empty_raise():
    """depthwise/separable test_invalid_output_shape_raises, conv test_conv_raises_exception_on_zero_dims
    and test_conv_symbolic_invalid_configuration: eager and symbolic inputs alike."""
    rng = np.random.default_rng(_seed("empty"))
    eager = [(_cls("DepthwiseConv2D")(5, strides=2, padding="valid", data_format=CL), (2, 4, 4, 3)),
             (_cls("SeparableConv2D")(8, 5, strides=2, padding="valid", data_format=CL), (2, 4, 4, 3)),
             (_cls("Conv2D")(6, [5, 5], 1, "valid"), (3, 4, 4, 4)),
             (_cls("Conv1D")(2, 4, dilation_rate=2), (2, 6, 3))]
    for layer, shape in eager:
        with pytest.raises(ValueError):
            layer(T(_normal(rng, shape), "float32"))
    for layer, shape in [(_cls("Conv1D")(filters=1, kernel_size=2, dilation_rate=10), (10, 3)),
                         (_cls("Conv2D")(filters=1, kernel_size=(2, 2), dilation_rate=(10, 10)),
                          (10, 10, 3))]:
        with pytest.raises(ValueError):
            layer(layers.Input(shape=shape))


def test_keras_unknown_spatial_sizes_stay_unknown():
    """conv_transpose_test.py test_shape_inference_static_unknown_shape (and the same for Conv2D):
    an Input of shape (None, None, 3) gives (None, None, None, filters)."""
    for k in range(1, 5):
        for s in range(1, 5):
            for padding in ("same", "valid"):
                for op in [None] + list(range(1, s)):
                    layer = _cls("Conv2DTranspose")(filters=2, kernel_size=k, strides=s, padding=padding,
                                                    output_padding=op)
                    assert tuple(layer(layers.Input(shape=(None, None, 3))).shape) == (None, None, None, 2)
                layer = _cls("Conv2D")(filters=2, kernel_size=k, strides=s, padding=padding)
                assert tuple(layer(layers.Input(shape=(None, None, 3))).shape) == (None, None, None, 2)


def _plain(v):
    if isinstance(v, (list, tuple)):
        return tuple(_plain(a) for a in v)
    if isinstance(v, dict):
        return {k: _plain(a) for k, a in v.items()}
    return v


def test_keras_defaults():
    """Keras 3's defaults, as get_config reports them (data_format None is channels_last)."""
    glorot = _plain(initializers.serialize(initializers.get("glorot_uniform")))
    zeros = _plain(initializers.serialize(initializers.get("zeros")))
    linear = activations.serialize(activations.get(None))
    base = dict(strides=(1, 1), padding="valid", data_format="channels_last", dilation_rate=(1, 1),
                activation=linear, use_bias=True, bias_initializer=zeros)
    conv = dict(base, filters=4, groups=1, kernel_initializer=glorot)
    expected = {
        "Conv2D": (dict(filters=4, kernel_size=3), dict(conv, kernel_size=(3, 3))),
        "Conv1D": (dict(filters=4, kernel_size=3),
                   dict(conv, kernel_size=(3,), strides=(1,), dilation_rate=(1,))),
        "DepthwiseConv2D": (dict(kernel_size=3), dict(base, kernel_size=(3, 3), depth_multiplier=1,
                                                       depthwise_initializer=glorot)),
        "SeparableConv2D": (dict(filters=4, kernel_size=3),
                            dict(base, filters=4, kernel_size=(3, 3), depth_multiplier=1,
                                 depthwise_initializer=glorot, pointwise_initializer=glorot)),
        "Conv2DTranspose": (dict(filters=4, kernel_size=3),
                            dict(base, filters=4, kernel_size=(3, 3), output_padding=None,
                                 kernel_initializer=glorot)),
    }
    for kind, (args, want) in expected.items():
        config = _plain(_cls(kind)(**args).get_config())
        for key, value in want.items():
            assert config.get(key, "<missing>") == value, f"{kind}: {key} is {config.get(key, '<missing>')!r}"


def test_keras_mnist_convnet_parameter_counts():
    """The counts Keras' simple MNIST convnet summary prints: 320 and 18,496 for its two Conv2D."""
    a, b = _cls("Conv2D")(32, kernel_size=(3, 3), activation="relu"), _cls("Conv2D")(64, kernel_size=(3, 3))
    h = a(layers.Input(shape=(28, 28, 1)))
    b(layers.Input(shape=(13, 13, 32)))
    assert a.count_params() == 320 and b.count_params() == 18496
    assert tuple(h.shape) == (None, 26, 26, 32)


def test_layer_rejects_another_channel_count_after_build():
    for layer, first, second in [(_cls("Conv2D")(2, 3), (1, 5, 5, 3), (1, 5, 5, 4)),
                                 (_cls("Conv1D")(2, 3, data_format="channels_first"), (1, 3, 6), (1, 4, 6)),
                                 (_cls("DepthwiseConv2D")(3), (1, 5, 5, 3), (1, 5, 5, 2)),
                                 (_cls("SeparableConv2D")(2, 3), (1, 5, 5, 3), (1, 5, 5, 2)),
                                 (_cls("Conv2DTranspose")(2, 3), (1, 5, 5, 3), (1, 5, 5, 4))]:
        layer(pynn.zeros(first))
        with pytest.raises(ValueError):
            layer(pynn.zeros(second))


# ====================================================================== errors

def _z(*shape):
    return pynn.zeros(shape)


ERROR_CASES = {  # name: (call, the op's name part, shapes the message must name)
    "conv-rank-2-input": (
        lambda: ops.conv(_z(2, 5), _z(3, 5, 4)), "conv", [(2, 5)]),
    "conv-kernel-rank": (
        lambda: ops.conv(_z(2, 5, 5, 3), _z(3, 3, 4)), "conv", [(2, 5, 5, 3), (3, 3, 4)]),
    "conv2d-rank-3-input": (
        lambda: ops.conv2d(_z(5, 5, 3), _z(3, 3, 3, 4)), "conv", [(5, 5, 3)]),
    "conv1d-rank-4-input": (
        lambda: ops.conv1d(_z(2, 5, 5, 3), _z(3, 3, 4)), "conv", [(2, 5, 5, 3)]),
    "depthwise-rank-2-input": (
        lambda: ops.depthwise_conv(_z(2, 5), _z(3, 5, 1)), "depthwise", [(2, 5)]),
    "transpose-rank-2-input": (
        lambda: ops.conv_transpose(_z(2, 5), _z(3, 4, 5)), "transpose", [(2, 5)]),
    "conv-channels-not-divisible": (
        lambda: ops.conv(_z(2, 5, 5, 3), _z(3, 3, 2, 4)), "conv", [(2, 5, 5, 3), (3, 3, 2, 4)]),
    "conv-filters-not-divisible-by-groups": (
        lambda: ops.conv(_z(2, 5, 5, 4), _z(3, 3, 2, 3)), "conv", [(2, 5, 5, 4), (3, 3, 2, 3)]),
    "conv-channels-first-mismatch": (
        lambda: ops.conv(_z(2, 3, 5, 5), _z(3, 3, 2, 4), data_format=CF),
        "conv", [(2, 3, 5, 5), (3, 3, 2, 4)]),
    "depthwise-channel-mismatch": (
        lambda: ops.depthwise_conv(_z(2, 5, 5, 3), _z(3, 3, 4, 2)),
        "depthwise", [(2, 5, 5, 3), (3, 3, 4, 2)]),
    "separable-pointwise-mismatch": (
        lambda: ops.separable_conv(_z(2, 5, 5, 3), _z(3, 3, 3, 2), _z(1, 1, 5, 2)),
        "separable", [(1, 1, 5, 2)]),
    "transpose-channel-mismatch": (
        lambda: ops.conv_transpose(_z(2, 5, 5, 3), _z(3, 3, 4, 5)),
        "transpose", [(2, 5, 5, 3), (3, 3, 4, 5)]),
    "conv-kernel-larger-than-input": (
        lambda: ops.conv(_z(2, 3, 3, 2), _z(4, 4, 2, 1)), "conv", [(2, 3, 3, 2), (4, 4, 2, 1)]),
    "conv-dilated-kernel-larger-than-input": (
        lambda: ops.conv(_z(1, 5, 2), _z(3, 2, 1), dilation_rate=3), "conv", [(1, 5, 2), (3, 2, 1)]),
    "conv2d-kernel-larger-than-padded-input": (
        lambda: ops.conv2d(_z(1, 2, 2, 1), _z(4, 4, 1, 1), padding=((1, 0), (1, 1))),
        "conv", [(1, 2, 2, 1), (4, 4, 1, 1)]),
    "depthwise2d-kernel-larger-than-input": (
        lambda: ops.depthwise_conv2d(_z(1, 2, 2, 1), _z(3, 3, 1, 1)),
        "depthwise", [(1, 2, 2, 1), (3, 3, 1, 1)]),
    "conv2d-bias-size": (
        lambda: ops.conv2d(_z(1, 5, 5, 2), _z(3, 3, 2, 4), _z(5)), "conv", []),
    "conv-unknown-padding": (
        lambda: ops.conv(_z(1, 5, 5, 2), _z(3, 3, 2, 4), padding="full"), "conv", []),
    "conv-unknown-data-format": (
        lambda: ops.conv(_z(1, 5, 5, 2), _z(3, 3, 2, 4), data_format="channels_middle"), "conv", []),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_name_the_op_and_the_shapes(name):
    """Wrong ranks, channels that do not fit the kernel, no output positions, a bias of the wrong
    size, an unknown padding or layout: a ValueError naming the op (a part of its name: conv,
    depthwise, separable, transpose) and the shapes involved (spaces ignored)."""
    call, op, shapes = ERROR_CASES[name]
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert op in msg, f"{op!r} not named in: {msg}"
    flat = msg.replace(" ", "")
    for shape in shapes:
        assert str(tuple(shape)).replace(" ", "") in flat, f"shape {shape} not named in: {msg}"


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_non_float_inputs_are_type_errors(dtype):
    x, w = np.ones((1, 4, 4, 2), dtype), np.ones((2, 2, 2, 3), dtype)
    xf, wf = np.ones((1, 4, 4, 2), np.float32), np.ones((2, 2, 2, 3), np.float32)
    for xa, wa in ((x, wf), (xf, w), (x, w)):
        with pytest.raises(TypeError):
            ops.conv(T(xa), T(wa))
        with pytest.raises(TypeError):
            ops.conv2d(T(xa), T(wa))
    with pytest.raises(TypeError):
        ops.depthwise_conv(T(x), T(np.ones((2, 2, 2, 1), np.float32)))
    with pytest.raises(TypeError):
        ops.conv_transpose(T(x), T(np.ones((2, 2, 3, 2), np.float32)))
    with pytest.raises(TypeError):
        ops.separable_conv(T(x), T(np.ones((2, 2, 2, 1), np.float32)), T(np.ones((1, 1, 2, 3), np.float32)))


# ====================================================================== captured training steps

def _images(n, shape, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(0, 1, (classes, *shape))[y] + rng.normal(0, 1, (n, *shape))
    return x.astype(np.float32), y


CAPTURED_MODELS = {  # name: (input shape, layers)
    "conv2d-flatten-dense": ((7, 7, 2), lambda: [
        _cls("Conv2D")(4, 3, activation="relu"), layers.Flatten(), layers.Dense(3, activation="softmax")]),
    "conv2d-strided-groups-channels-first": ((2, 8, 8), lambda: [
        _cls("Conv2D")(4, 3, strides=2, padding="same", groups=2, data_format=CF, activation="tanh"),
        layers.Flatten(), layers.Dense(3, activation="softmax")]),
    "transpose-depthwise-separable": ((5, 5, 2), lambda: [
        _cls("Conv2DTranspose")(3, 2, strides=2, activation="relu"),
        _cls("DepthwiseConv2D")(3, depth_multiplier=2, activation="tanh"),
        _cls("SeparableConv2D")(4, 3, padding="same", activation="relu"),
        layers.Flatten(), layers.Dense(3, activation="softmax")]),
    "conv1d-causal-dilated": ((9, 2), lambda: [
        _cls("Conv1D")(4, 3, padding="causal", dilation_rate=2, activation="relu"), layers.Flatten(),
        layers.Dense(3, activation="softmax")]),
}


@pytest.mark.parametrize("name", sorted(CAPTURED_MODELS))
def test_fit_captured_equals_eager(name):
    """A small convnet trained with fit: the captured step gives the eager step's history,
    predictions, weights and optimizer state bit for bit, and training moved the weights."""
    shape, stack = CAPTURED_MODELS[name]
    x, y = _images(70, shape)  # 70 = 4 * 16 + 6: the last batch is partial

    def make(**options):
        m = pynn.Sequential([layers.Input(shape)] + stack())
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    def run(m):
        history = m.fit(x, y, batch_size=16, epochs=2, verbose=0).history
        return history, m.predict(x, batch_size=32, verbose=0)

    ((ha, pa), a), ((hb, pb), b) = captured_and_eager(make, run)
    np.testing.assert_equal(ha, hb)
    np.testing.assert_array_equal(pa, pb)
    assert_same_state(a, b)
    pynn.random.seed(0)
    start = make().get_weights()
    moved = [not np.array_equal(w0, w) for w0, w in zip(start, a.get_weights(), strict=True)]
    assert all(moved), f"fit left weights unchanged: {moved}"


@pytest.mark.parametrize("batch", [1, 3, 37])
def test_results_are_the_same_bits_on_any_thread_count(batch):
    """Note [Convolution blocks]: the blocks are cut by the shapes alone and dW, db add their per-block parts
    in block order, so the forward and every gradient come out bit for bit alike on 1 and 2 threads (a batch
    of 1 runs its GEMMs threaded inside one block, 37 images run many blocks in parallel)."""
    rng = np.random.default_rng(batch)
    x = pynn.tensor(rng.standard_normal((batch, 12, 11, 6)).astype(np.float32))
    w = pynn.tensor(rng.standard_normal((3, 3, 3, 8)).astype(np.float32))
    b = pynn.tensor(rng.standard_normal(8).astype(np.float32))
    r = pynn.tensor(rng.standard_normal((batch, 6, 11, 8)).astype(np.float32))

    def run():
        xv, wv, bv = pynn.Variable(x), pynn.Variable(w), pynn.Variable(b)
        with pynn.GradientTape() as tape:
            y = ops.conv2d(xv, wv, bv, strides=(2, 1), padding="same", activation="tanh")
            loss = ops.sum(ops.multiply(y, r))
        return [np.asarray(t) for t in [y] + tape.gradient(loss, [xv, wv, bv])]

    old = pynn.get_num_threads()
    try:
        pynn.set_num_threads(1)
        one = run()
        pynn.set_num_threads(2)
        two = run()
    finally:
        pynn.set_num_threads(old)
    for a, c in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, c)
