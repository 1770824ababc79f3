"""pynn.pad: NumPy's np.pad for the modes a network needs, with its gradient.

Note [Padding by pieces]
Padding is built from ops that already record (a gradient) and capture (a kernel
call), so it needs no kernel of its own and replays in a captured step:

- "constant": the result is filled with the value and x is copied into its centre,
  two kernel calls; the gradient is the centre of g (the filled border takes none).
- "edge", "reflect", "symmetric", "wrap": one axis at a time, the padded axis is the
  concatenation of pieces of the axis padded so far: the whole of it in the middle, and
  on each side runs of source indices, each a basic-indexing view (step +1 or -1) or a
  broadcast of one edge slice. concatenate copies each piece into its slice of the
  result; the tape then sums every copy's gradient back onto the elements it came from.

Which source index fills padded position j (-left <= j < n + right, 0 <= i < n) is the
usual unbounded extension of the axis, which is what np.pad computes for pads of any
width: edge clamps j into [0, n); wrap takes j mod n; symmetric mirrors with the edge
repeated (period 2n); reflect mirrors about the edge (period 2n - 2; an axis of length
1 is extended with its edge, as in NumPy).
"""

import builtins
import math

import numpy as np

from . import _core
from .autograd import record
from .ops import _as_tensor, _recording, broadcast_to, concatenate, getitem

__all__ = ["pad"]

_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
# np.pad's other modes: known, not implemented here.
_NUMPY_ONLY = ("linear_ramp", "maximum", "mean", "median", "minimum", "empty")


def _pairs(value, ndim, what, as_index):
    """`value` as one (before, after) pair per axis, with NumPy's broadcasting of pad_width:
    a scalar, (n,), (before, after), ((before, after),), one pair per axis, or a dict
    {axis: int or pair} (pad_width only; other axes 0)."""
    if as_index and isinstance(value, dict):
        widths = [(0, 0)] * ndim
        for axis, width in value.items():
            if not (isinstance(axis, int) and -ndim <= axis < ndim):
                raise ValueError(f"pad: `{what}` {value!r:.60}: {axis!r} is not an axis of a tensor of "
                                 f"dimension {ndim}")
            widths[axis] = _pairs(width, 1, what, True)[0]
        return widths
    try:
        a = np.asarray(value)
    except ValueError as e:  # ragged nesting
        raise ValueError(f"pad: `{what}` {value!r:.60} is not a number, a pair or one pair per axis "
                         f"({e})") from None
    if as_index:
        if a.dtype.kind not in "iu":
            raise TypeError(f"pad: `{what}` must be of integral type, got {a.dtype} ({value!r:.60})")
        a = a.astype(np.int64)
    if a.ndim < 3 and a.size == 1:
        pairs = [(a.reshape(-1)[0],) * 2] * ndim
    elif a.ndim < 3 and a.size == 2 and a.shape != (2, 1):
        flat = a.reshape(-1)
        pairs = [(flat[0], flat[1])] * ndim
    else:
        try:
            pairs = [tuple(p) for p in np.broadcast_to(a, (ndim, 2))]
        except ValueError:
            raise ValueError(f"pad: `{what}` of shape {a.shape} cannot be broadcast to ({ndim}, 2), one "
                             f"(before, after) pair per axis of the input") from None
    if as_index:
        if any(v < 0 for p in pairs for v in p):
            raise ValueError(f"pad: `{what}` can't contain negative values, got {value!r:.60}")
        pairs = [(int(b), int(e)) for b, e in pairs]
    return pairs


_MAX_BYTES = 2 ** 62  # larger results are refused before any piece is made, as NumPy refuses the array


def _source(mode, j, n):
    """The index of the input along an axis of length n that fills padded position j."""
    if mode == "edge" or n == 1:  # an axis of one element extends with it in every mode
        return builtins.min(builtins.max(j, 0), n - 1)
    if mode == "wrap":
        return j % n
    if mode == "symmetric":
        m = j % (2 * n)
        return m if m < n else 2 * n - 1 - m
    m = j % (2 * n - 2)  # reflect
    return m if m < n else 2 * n - 2 - m


def _runs(indices, repeats):
    """indices split into runs (first index, length, step) with step +1 or -1, or 0 (one index
    repeated) where `repeats` allows it."""
    runs = []
    for i in indices:
        if runs:
            start, length, step = runs[-1]
            last = start + (length - 1) * step
            if length == 1 and (abs(i - last) == 1 or (repeats and i == last)):
                runs[-1] = (start, 2, i - last)
                continue
            if length > 1 and i - last == step:
                runs[-1] = (start, length + 1, step)
                continue
        runs.append((i, 1, 0))
    return runs


def _piece(y, axis, run):
    """The part of y along `axis` that one run of source indices selects (a view)."""
    start, length, step = run
    lead = (slice(None),) * axis
    if step == 0:
        one = getitem(y, lead + (slice(start, start + 1),))
        return broadcast_to(one, y.shape[:axis] + (length,) + y.shape[axis + 1:])
    stop = start + length * step
    return getitem(y, lead + (slice(start, None if stop < 0 else stop, step),))


def _periodic(y, axis, before, after, mode):
    """wrap, reflect and symmetric padding far wider than the axis: the padded axis is a window of the
    tiling of one period (x, then x reversed for reflect / symmetric), the tiling built by doubling, so
    the pieces are O(log(width / n)) and not O(width / n)."""
    n = y.shape[axis]
    lead = (slice(None),) * axis
    if mode == "wrap":
        period = y
    elif mode == "symmetric":
        period = concatenate([y, getitem(y, lead + (slice(None, None, -1),))], axis=axis)
    else:  # reflect: x then x reversed without its ends
        period = concatenate([y, getitem(y, lead + (slice(n - 2, 0, -1),))], axis=axis)
    p = period.shape[axis]
    start = (-before) % p  # the tiling's index of padded position -before (_source is periodic in p)
    length = before + n + after
    tiled = period
    while tiled.shape[axis] < start + length:
        tiled = concatenate([tiled, tiled], axis=axis)
    return getitem(tiled, lead + (slice(start, start + length),))


def _pad_axis(y, axis, before, after, mode):
    n = y.shape[axis]
    if mode == "edge" or n == 1:  # one run each side: the end element repeated (a broadcast view)
        pieces = (([_piece(y, axis, (0, before, 0))] if before else []) + [y]
                  + ([_piece(y, axis, (n - 1, after, 0))] if after else []))
        return concatenate(pieces, axis=axis)
    if before + after > 4 * n:
        return _periodic(y, axis, before, after, mode)
    left = [_source(mode, j, n) for j in range(-before, 0)]
    right = [_source(mode, j, n) for j in range(n, n + after)]
    repeats = mode == "edge" or n == 1
    pieces = ([_piece(y, axis, r) for r in _runs(left, repeats)] + [y]
              + [_piece(y, axis, r) for r in _runs(right, repeats)])
    return concatenate(pieces, axis=axis)


def _constant(x, widths, values):
    shape = tuple(s + b + e for s, (b, e) in zip(x.shape, widths))
    code = x._dtype_code
    dtype = x.dtype.dtype
    # np.pad assigns NumPy scalars: values take x's dtype by an unsafe cast (1.7 -> 1 in an int array).
    try:
        cast = [(np.asarray(b).astype(dtype), np.asarray(e).astype(dtype)) for b, e in values]
    except (TypeError, ValueError) as e:
        raise TypeError(f"pad: constant_values must be numbers that fit {x.dtype.name}: {e}") from None
    distinct = {v.item() for pair in cast for v in pair}
    if len(distinct) <= 1:
        out = _core._full(shape, cast[0][0] if cast else 0, code, "pad")
    else:
        # np.pad fills axis by axis over the whole extent of the others: later axes win the corners.
        out = _core._empty(shape, code)
        for axis, ((b, e), (vb, ve)) in enumerate(zip(widths, cast)):
            lead = (slice(None),) * axis
            _core.Tensor.__setitem__(out, lead + (slice(0, b),), vb)
            _core.Tensor.__setitem__(out, lead + (slice(shape[axis] - e, shape[axis]),), ve)
    centre = tuple(slice(b, b + s) for s, (b, _) in zip(x.shape, widths))
    _core.Tensor.__setitem__(out, centre, x)
    if _recording():
        record(lambda g, ins, y, _: (getitem(g, centre),), (x,), out)
    return out


def pad(x, pad_width, mode="constant", constant_values=0):
    """NumPy's np.pad of x: a new tensor of x's dtype with x in its centre.

    pad_width: as np.pad takes it: an int (every side of every axis), a pair (before,
    after) for every axis, or one pair per axis (non-negative integers). mode:
    "constant" (constant_values: a number, a pair, or one pair per axis, cast to x's
    dtype), "edge", "reflect", "symmetric" or "wrap" (Note [Padding by pieces]). The
    gradient of x sums the gradients of all the places it was copied to.
    """
    x = _as_tensor(x, "pad")
    if callable(mode):
        raise NotImplementedError(f"pad: a callable mode is not implemented; pynn.pad supports "
                                  f"{list(_MODES)}")
    if not isinstance(mode, str):
        raise TypeError(f"pad: mode must be a string, one of {list(_MODES)}; got {type(mode).__name__}")
    if mode in _NUMPY_ONLY:
        raise NotImplementedError(f"pad: mode {mode!r} is not implemented; pynn.pad supports {list(_MODES)}")
    if mode not in _MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; expected one of {list(_MODES)}")
    widths = _pairs(pad_width, x.ndim, "pad_width", True)
    shape = tuple(s + b + e for s, (b, e) in zip(x.shape, widths))
    if math.prod(shape) * x.itemsize > _MAX_BYTES:
        raise ValueError(f"pad: the result of shape {shape} ({x.dtype.name}) is too big")
    if mode == "constant":
        return _constant(x, widths, _pairs(constant_values, x.ndim, "constant_values", False))
    if not (isinstance(constant_values, (int, float)) and constant_values == 0):
        raise ValueError(f"pad: constant_values is only used by mode 'constant', not {mode!r}")
    for axis, (b, e) in enumerate(widths):
        if x.shape[axis] == 0 and (b or e):
            raise ValueError(f"pad: can't extend the empty axis {axis} of a tensor of shape {x.shape} with "
                             f"mode {mode!r} (only 'constant' can)")
    y = x
    for axis, (b, e) in enumerate(widths):
        if b or e:
            y = _pad_axis(y, axis, b, e, mode)
    if y is x:  # nothing to pad: still a new tensor, as np.pad returns
        y = _constant(x, widths, [(0, 0)] * x.ndim)
    return y

