"""Keras' arguments of the spatial ops and layers (convolution, pooling, padding, resizing), in one place:
data_format, int tuples (kernel_size, strides, pool_size, ...), padding names and the output size and
pads of one spatial axis (TensorFlow's "same" rule)."""

import operator


def data_format(op, value):
    """"channels_last" (None: pynn's default image layout, as Keras' image_data_format()) or
    "channels_first", in any case; another value is a ValueError naming `op`."""
    if value is None:
        return "channels_last"
    fmt = value.lower() if isinstance(value, str) else value
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return fmt


def int_tuple(op, name, value, n, minimum=1):
    """Keras' standardize_tuple: an int (repeated n times) or n ints (NumPy ints too), each >= minimum."""
    one_int = hasattr(type(value), "__index__") and getattr(value, "ndim", 0) == 0 and not isinstance(value, bool)
    values = (value,) * n if one_int else value
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(values) != n or any(isinstance(v, bool) or not hasattr(type(v), "__index__") for v in values):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    values = tuple(operator.index(v) for v in values)
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be {'positive' if minimum == 1 else f'>= {minimum}'}, got {value!r}")
    return values


def padding(op, value, allowed=("valid", "same")):
    """A padding name of `allowed`, in any case."""
    p = value.lower() if isinstance(value, str) else value
    if p not in allowed:
        names = ", ".join(repr(a) for a in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{op}: padding must be {names}, got {value!r}")
    return p


def axis_extent(op, size, window, stride, mode, shape, dilation=1):
    """(output size, pad before, pad after) of one spatial axis of `size` for a window (a kernel or a pool)
    of `window` taps `dilation` apart, by Keras' (TensorFlow's) rules: "valid" pads nothing and must leave
    at least one output (else a ValueError naming the input shape); "same" gives ceil(size / stride)
    outputs, the total pad split with the extra one after; "causal" pads (window - 1) * dilation before."""
    eff = (window - 1) * dilation + 1
    if mode == "valid":
        out = (size - eff) // stride + 1
        if out <= 0:
            raise ValueError(f"{op}: computed output size would be zero or negative: input shape {shape}, "
                             f"window {window}, strides {stride}, dilation_rate {dilation}, padding 'valid' (the "
                             f"window is larger than the input)")
        return out, 0, 0
    out = -(-size // stride)
    if mode == "causal":
        return out, eff - 1, 0
    total = max((out - 1) * stride + eff - size, 0) if size else 0
    return out, total // 2, total - total // 2
