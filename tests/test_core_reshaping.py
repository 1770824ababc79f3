"""pynn.pad and the reshaping / spatial-dropout layers (issues 15 and 17).

Oracles: np.pad for pad; explicit NumPy float64 loops written here for the layers (each
output element computed from its definition); Keras 3's stated numbers from
keras/src/layers/reshaping/*_test.py and regularization/spatial_dropout_test.py.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pynn
from pynn import layers

from oracle import DTYPES, FLOATS, assert_like_numpy, assert_same_state, captured_and_eager, random_array

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]
FORMATS = ["channels_last", "channels_first"]


def to_last(a, data_format):
    """A 3-D or 4-D array in channels_last order, whatever data_format it is in."""
    if data_format == "channels_last":
        return a
    return np.moveaxis(a, 1, -1)


def from_last(a, data_format):
    if data_format == "channels_last":
        return a
    return np.moveaxis(a, -1, 1)


# ---------------------------------------------------------------- pad: the reference

def reference_index(mode, j, n):
    """The source index of padded position j on an axis of length n, from each mode's
    definition (np.pad's docstring), one step at a time: no closed form shared with pynn."""
    if mode == "edge" or n == 1:
        return min(max(j, 0), n - 1)
    if mode == "wrap":
        while j < 0:
            j += n
        while j >= n:
            j -= n
        return j
    # reflect / symmetric: bounce between the ends (symmetric repeats the edge element)
    lo, hi = (-0.5, n - 0.5) if mode == "symmetric" else (0, n - 1)
    x = float(j)
    while x < lo or x > hi:
        x = 2 * lo - x if x < lo else 2 * hi - x
    return int(round(x))


def reference_pad(a, widths, mode, value=0):
    """np.pad's result computed element by element from reference_index (float64 loops)."""
    out_shape = tuple(s + b + e for s, (b, e) in zip(a.shape, widths))
    out = np.empty(out_shape, a.dtype)
    for idx in itertools.product(*[range(s) for s in out_shape]):
        src, inside = [], True
        for k, (i, (b, _)) in enumerate(zip(idx, widths)):
            j = i - b
            if not 0 <= j < a.shape[k]:
                inside = False
            src.append(j)
        if mode == "constant":
            out[idx] = a[tuple(src)] if inside else value
        else:
            out[idx] = a[tuple(reference_index(mode, j, a.shape[k]) for k, j in enumerate(src))]
    return out


def test_the_pad_reference_is_np_pad():
    # the hand-written reference agrees with NumPy, so it can stand for it in the gradient tests
    rng = np.random.default_rng(0)
    for mode in MODES:
        for n in (1, 2, 3, 5):
            a = rng.normal(size=(n, 2))
            widths = [(7, 11), (3, 0)]
            np.testing.assert_array_equal(reference_pad(a, widths, mode), np.pad(a, widths, mode=mode))


# ---------------------------------------------------------------- pad: values

@given(data=st.data())
def test_pad_matches_np_pad(data):
    nd = data.draw(st.integers(0, 4), "ndim")
    shape = tuple(data.draw(st.lists(st.integers(0, 4), min_size=nd, max_size=nd), "shape"))
    dtype = data.draw(st.sampled_from(DTYPES), "dtype")
    mode = data.draw(st.sampled_from(MODES), "mode")
    widths = [tuple(data.draw(st.lists(st.integers(0, 9), min_size=2, max_size=2))) for _ in range(nd)]
    a = random_array(np.random.default_rng(len(shape) + sum(shape)), shape, dtype)
    if nd and data.draw(st.booleans(), "reversed view"):
        a = a[..., ::-1]
    form = data.draw(st.sampled_from(["pairs", "one pair", "int", "dict"]), "pad_width form")
    if not nd:
        pw = (1, 2) if form == "one pair" else 3
    else:
        pw = {"pairs": widths, "one pair": widths[0], "int": widths[0][0],
              "dict": {-1: widths[0], 0: widths[0][1]}}[form]
    try:
        expected = np.pad(a, pw, mode=mode)
    except ValueError:  # NumPy: an empty axis cannot be extended but with "constant"
        with pytest.raises(ValueError, match="empty axis"):
            pynn.pad(a, pw, mode=mode)
        return
    for x in (pynn.from_numpy(a), pynn.tensor(a.copy())):
        got = pynn.pad(x, pw, mode=mode)
        assert_like_numpy(got, expected)
        if a.size:
            assert not np.shares_memory(np.asarray(got), a)  # always a new tensor, as np.pad


@pytest.mark.parametrize("mode", MODES)
def test_pad_against_the_reference_with_wide_pads(mode):
    # pads wider than the axis take several turns of wrap / reflection
    rng = np.random.default_rng(1)
    for shape in [(1, 3), (2, 3), (3, 1), (4, 2)]:
        a = rng.normal(size=shape)
        widths = [(9, 4), (0, 7)]
        assert_like_numpy(pynn.pad(a, widths, mode=mode), reference_pad(a, widths, mode))


def test_pad_width_forms_and_constant_values():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    for pw in [2, (2,), (1, 2), ((1, 2),), ((1, 2), (3, 0)), [[2], [1]], np.int64(1), np.array([[1, 0], [0, 3]])]:
        for cv in [0, 5.5, (1, 2), ((1, 2), (3, 4)), [[7], [8]]]:
            assert_like_numpy(pynn.pad(a, pw, constant_values=cv), np.pad(a, pw, constant_values=cv))
    # the fill value takes x's dtype, as np.pad casts it
    ints = np.arange(6, dtype=np.int32).reshape(2, 3)
    for cv in [1.7, -2.5, (1.2, 9.9)]:
        assert_like_numpy(pynn.pad(ints, 1, constant_values=cv), np.pad(ints, 1, constant_values=cv))
    # a known answer, by hand
    np.testing.assert_array_equal(np.asarray(pynn.pad(np.array([1, 2, 3]), (2, 3), mode="reflect")),
                                  [3, 2, 1, 2, 3, 2, 1, 2])
    np.testing.assert_array_equal(np.asarray(pynn.pad(np.array([1, 2, 3]), (2, 3), mode="symmetric")),
                                  [2, 1, 1, 2, 3, 3, 2, 1])
    np.testing.assert_array_equal(np.asarray(pynn.pad(np.array([1, 2, 3]), (2, 3), mode="wrap")),
                                  [2, 3, 1, 2, 3, 1, 2, 3])
    assert pynn.pad(pynn.tensor(2.5), 3).shape == ()  # a 0-d tensor has no axis to pad
    assert pynn.ops.pad is pynn.pad


def test_pad_errors():
    a = np.zeros((2, 3), np.float32)
    for bad in [-1, (1, -1), ((1, 2), (3, -4))]:
        with pytest.raises(ValueError, match="pad: `pad_width` can't contain negative values"):
            pynn.pad(a, bad)
    for bad in [1.5, "a", [(1.0, 2.0)]]:
        with pytest.raises(TypeError, match="pad: `pad_width` must be of integral type"):
            pynn.pad(a, bad)
    with pytest.raises(ValueError, match=r"pad: `pad_width` of shape \(3, 2\) cannot be broadcast to \(2, 2\)"):
        pynn.pad(a, ((1, 2), (3, 4), (5, 6)))
    for mode in ["mean", "maximum", "linear_ramp", "median", "minimum", "empty"]:
        with pytest.raises(NotImplementedError, match=f"pad: mode '{mode}' is not implemented"):
            pynn.pad(a, 1, mode=mode)
    with pytest.raises(NotImplementedError, match="callable mode"):
        pynn.pad(a, 1, mode=lambda *args: None)
    with pytest.raises(ValueError, match="pad: mode 'mirror' is not supported"):
        pynn.pad(a, 1, mode="mirror")
    with pytest.raises(TypeError, match="mode must be a string"):
        pynn.pad(a, 1, mode=3)
    with pytest.raises(ValueError, match="constant_values is only used by mode 'constant'"):
        pynn.pad(a, 1, mode="edge", constant_values=2)
    with pytest.raises(ValueError, match=r"can't extend the empty axis 0 of a tensor of shape \(0, 3\)"):
        pynn.pad(np.zeros((0, 3)), ((1, 0), (0, 0)), mode="wrap")
    with pytest.raises(ValueError, match="2 is not an axis of a tensor of dimension 2"):
        pynn.pad(a, {2: 1})
    with pytest.raises(ValueError, match="can't contain negative values"):
        pynn.pad(a, {0: (1, -1)})
    with pytest.raises(ValueError, match="not a number, a pair or one pair per axis"):
        pynn.pad(a, ((1, 2), (3,), 4))
    with pytest.raises(TypeError, match="pad: constant_values must be numbers that fit float32"):
        pynn.pad(a, 1, constant_values="zero")


# ---------------------------------------------------------------- pad: gradients

@pytest.mark.parametrize("mode", MODES)
def test_pad_gradient(mode):
    rng = np.random.default_rng(2)
    for shape, widths in [((3, 2, 4), ((2, 5), (0, 3), (4, 1))), ((1, 3), ((2, 2), (5, 6))), ((2,), ((0, 0),))]:
        x = rng.normal(size=shape)
        weights = rng.normal(size=reference_pad(x, widths, mode).shape)
        assert pynn.utils.gradcheck(lambda t: pynn.pad(t, widths, mode=mode) * weights, [x])


@pytest.mark.parametrize("mode", MODES)
def test_pad_gradient_sums_the_copies(mode):
    # d sum(w * pad(x)) / dx[i] = the sum of w over every place x[i] was copied to
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 2))
    widths = [(4, 5), (1, 2)]
    w = rng.normal(size=reference_pad(x, widths, mode).shape)
    expected = np.zeros_like(x)
    for idx in itertools.product(*[range(s) for s in w.shape]):
        src = [i - b for i, (b, _) in zip(idx, widths)]
        if mode == "constant":
            if all(0 <= j < n for j, n in zip(src, x.shape)):
                expected[tuple(src)] += w[idx]
        else:
            expected[tuple(reference_index(mode, j, n) for j, n in zip(src, x.shape))] += w[idx]
    t = pynn.tensor(x)
    with pynn.GradientTape() as tape:
        tape.watch(t)
        y = pynn.sum(pynn.pad(t, widths, mode=mode) * w)
    np.testing.assert_allclose(np.asarray(tape.gradient(y, t)), expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- layer oracles (loops)

def zero_pad_ref(a, pads):
    """a (channels_last, float64) with zeros around each spatial axis, element by element."""
    spatial = a.shape[1:-1]
    out = np.zeros((a.shape[0],) + tuple(s + b + e for s, (b, e) in zip(spatial, pads)) + (a.shape[-1],))
    for n, c in itertools.product(range(a.shape[0]), range(a.shape[-1])):
        for pos in itertools.product(*[range(s) for s in spatial]):
            out[(n,) + tuple(p + b for p, (b, _) in zip(pos, pads)) + (c,)] = a[(n,) + pos + (c,)]
    return out


def crop_ref(a, crops):
    spatial = a.shape[1:-1]
    kept = [s - b - e for s, (b, e) in zip(spatial, crops)]
    out = np.zeros((a.shape[0],) + tuple(kept) + (a.shape[-1],))
    for n, c in itertools.product(range(a.shape[0]), range(a.shape[-1])):
        for pos in itertools.product(*[range(k) for k in kept]):
            out[(n,) + pos + (c,)] = a[(n,) + tuple(p + b for p, (b, _) in zip(pos, crops)) + (c,)]
    return out


def nearest_ref(a, factors):
    spatial = a.shape[1:-1]
    out = np.zeros((a.shape[0],) + tuple(s * f for s, f in zip(spatial, factors)) + (a.shape[-1],))
    for n, c in itertools.product(range(a.shape[0]), range(a.shape[-1])):
        for pos in itertools.product(*[range(s * f) for s, f in zip(spatial, factors)]):
            out[(n,) + pos + (c,)] = a[(n,) + tuple(p // f for p, f in zip(pos, factors)) + (c,)]
    return out


def linear_taps(o, n, factor):
    """Half-pixel-centre linear interpolation (jax.image.resize "bilinear", what Keras 3 uses):
    output o reads the input at (o + 0.5) / factor - 0.5; taps outside the input are dropped
    and the rest renormalised (so the edges repeat). Returns [(index, weight)]."""
    x = (o + 0.5) / factor - 0.5
    i0 = math.floor(x)
    taps = [(i, 1 - abs(x - i)) for i in (i0, i0 + 1) if 0 <= i < n and abs(x - i) < 1]
    total = sum(w for _, w in taps)
    return [(i, w / total) for i, w in taps]


def bilinear_ref(a, factors):
    _, h, w, _ = a.shape
    fh, fw = factors
    out = np.zeros((a.shape[0], h * fh, w * fw, a.shape[-1]))
    for r in range(h * fh):
        for c in range(w * fw):
            for i, wi in linear_taps(r, h, fh):
                for j, wj in linear_taps(c, w, fw):
                    out[:, r, c, :] += wi * wj * a[:, i, j, :]
    return out


def sym(batch_shape):
    """A symbolic input of this full shape (the batch size included, None where unknown)."""
    return layers.Input(shape=batch_shape[1:], batch_size=batch_shape[0])


def run(layer, a, dtype):
    return layer(pynn.tensor(a.astype(dtype)))


def shape_in(data_format, batch, spatial, channels):
    return (batch,) + tuple(spatial) + (channels,) if data_format == "channels_last" else \
        (batch, channels) + tuple(spatial)


sides = st.integers(1, 5)


# ---------------------------------------------------------------- ZeroPadding

@given(data=st.data())
def test_zero_padding_layers_against_loops(data):
    fmt = data.draw(st.sampled_from(FORMATS), "data_format")
    dtype = data.draw(st.sampled_from(FLOATS), "dtype")
    rank = data.draw(st.sampled_from([1, 2]), "spatial rank")
    spatial = data.draw(st.lists(sides, min_size=rank, max_size=rank), "spatial")
    batch, channels = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    a = np.random.default_rng(sum(spatial)).normal(size=shape_in(fmt, batch, spatial, channels))
    if rank == 1:
        padding = data.draw(st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3))))
        pads = [padding if isinstance(padding, tuple) else (padding, padding)]
        layer = layers.ZeroPadding1D(padding, data_format=fmt, dtype=dtype)
    else:
        form = data.draw(st.sampled_from(["int", "pair", "pairs"]))
        pads = [tuple(data.draw(st.lists(st.integers(0, 3), min_size=2, max_size=2))) for _ in range(2)]
        if form == "int":
            padding = pads[0][0]
            pads = [(padding, padding)] * 2
        elif form == "pair":
            padding = (pads[0][0], pads[1][0])
            pads = [(padding[0],) * 2, (padding[1],) * 2]
        else:
            padding = tuple(pads)
        layer = layers.ZeroPadding2D(padding, data_format=fmt, dtype=dtype)
    expected = from_last(zero_pad_ref(to_last(a, fmt).astype(dtype).astype(np.float64), pads), fmt)
    got = run(layer, a, dtype)
    assert_like_numpy(got, expected.astype(dtype))
    symbolic = layer.compute_output_shape((None,) + a.shape[1:])
    assert symbolic == (None,) + expected.shape[1:]


def test_zero_padding_keras_numbers():
    # keras' zero_padding1d_test / zero_padding2d_test / docstrings
    x = np.arange(12).reshape(2, 2, 3)
    y = np.asarray(layers.ZeroPadding1D(padding=2)(x))
    np.testing.assert_array_equal(y[0], [[0, 0, 0], [0, 0, 0], [0, 1, 2], [3, 4, 5], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(y[1, 2:4], [[6, 7, 8], [9, 10, 11]])
    x = np.arange(4).reshape(1, 1, 2, 2)
    y = np.asarray(layers.ZeroPadding2D(padding=1)(x))
    np.testing.assert_array_equal(y[0, :, :, 0], [[0, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(y[0, :, :, 1], [[0, 0, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]])
    inputs = np.random.default_rng(0).random((1, 2, 3, 4))
    for fmt in FORMATS:
        out = np.asarray(layers.ZeroPadding2D(((1, 2), (3, 4)), data_format=fmt)(inputs))
        assert out.shape == ((1, 2, 6, 11) if fmt == "channels_first" else (1, 5, 10, 4))
        core = out[:, :, 1:-2, 3:-4] if fmt == "channels_first" else out[:, 1:-2, 3:-4, :]
        np.testing.assert_allclose(core, inputs.astype(np.float32))
        assert np.abs(out).sum() == pytest.approx(np.abs(inputs.astype(np.float32)).sum(), rel=1e-6)
    # symbolic shapes with unknown dims
    assert layers.ZeroPadding1D((1, 2))(sym((1, None, 3))).shape == (1, None, 3)
    assert layers.ZeroPadding1D((1, 2))(sym((1, 2, 3))).shape == (1, 5, 3)
    assert layers.ZeroPadding2D(((1, 2), (3, 4)))(sym((1, 2, None, 4))).shape == (1, 5, None, 4)
    assert layers.ZeroPadding2D(((1, 2), (3, 4)), data_format="channels_first")(
        sym((1, 4, 2, None))).shape == (1, 4, 5, None)
    # configs
    c = layers.ZeroPadding1D(padding=(1, 2), data_format="channels_first").get_config()
    assert c["padding"] == (1, 2) and c["data_format"] == "channels_first"
    c = layers.ZeroPadding2D(padding=(1, 2)).get_config()
    assert c["padding"] == ((1, 1), (2, 2)) and c["data_format"] == "channels_last"
    again = layers.ZeroPadding2D.from_config(c)
    assert again.padding == ((1, 1), (2, 2))


@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1", 1.5, (1, -1), -1, (1, True)])
def test_zero_padding_1d_bad_arguments(padding):
    with pytest.raises(ValueError, match="ZeroPadding1D: `padding` must be"):
        layers.ZeroPadding1D(padding)


@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3"), -2,
                                     2.0])
def test_zero_padding_2d_bad_arguments(padding):
    with pytest.raises(ValueError, match="ZeroPadding2D: `padding"):
        layers.ZeroPadding2D(padding)


# ---------------------------------------------------------------- Cropping

@given(data=st.data())
def test_cropping_layers_against_loops(data):
    dtype = data.draw(st.sampled_from(FLOATS), "dtype")
    rank = data.draw(st.sampled_from([1, 2]), "spatial rank")
    fmt = data.draw(st.sampled_from(FORMATS), "data_format") if rank == 2 else "channels_last"
    spatial = data.draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank), "spatial")
    crops = [(data.draw(st.integers(0, s - 1)), 0) for s in spatial]
    crops = [(b, data.draw(st.integers(0, s - 1 - b))) for (b, _), s in zip(crops, spatial)]
    batch, channels = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    a = np.random.default_rng(sum(spatial)).normal(size=shape_in(fmt, batch, spatial, channels))
    layer = layers.Cropping1D(crops[0], dtype=dtype) if rank == 1 else \
        layers.Cropping2D(tuple(crops), data_format=fmt, dtype=dtype)
    got = run(layer, a, dtype)
    expected = from_last(crop_ref(to_last(a, fmt).astype(dtype).astype(np.float64), crops), fmt)
    assert_like_numpy(got, expected.astype(dtype))
    assert layer.compute_output_shape((None,) + a.shape[1:]) == (None,) + expected.shape[1:]
    x = pynn.tensor(a.astype(dtype))
    assert np.shares_memory(np.asarray(layer(x)), np.asarray(x))  # a view


def test_cropping_keras_numbers():
    inputs = np.random.default_rng(0).random((3, 5, 7)).astype(np.float32)
    for cropping, expected in [((1, 2), inputs[:, 1:3]), ((1, 1), inputs[:, 1:4]), (1, inputs[:, 1:4]),
                               ((0, 1), inputs[:, 0:4]), ((1, 0), inputs[:, 1:5])]:
        np.testing.assert_array_equal(np.asarray(layers.Cropping1D(cropping)(inputs)), expected)
    x = np.arange(12).reshape(2, 3, 2)
    np.testing.assert_array_equal(np.asarray(layers.Cropping1D(cropping=1)(x)), [[[2, 3]], [[8, 9]]])
    cases = [(((1, 2), (3, 4)), ((1, 5), (3, 5))), (((2, 2), (2, 2)), ((2, 5), (2, 7))), ((2, 2), ((2, 5), (2, 7))),
             (2, ((2, 5), (2, 7))), (((0, 2), (0, 4)), ((0, 5), (0, 5))), (((1, 0), (3, 0)), ((1, 7), (3, 9))),
             (((1, 0), (3, 4)), ((1, 7), (3, 5))), (((1, 2), (3, 0)), ((1, 5), (3, 9)))]
    rng = np.random.default_rng(1)
    for cropping, ((r0, r1), (c0, c1)) in cases:
        a = rng.random((3, 5, 7, 9)).astype(np.float32)
        got = layers.Cropping2D(cropping, data_format="channels_first")(a)
        np.testing.assert_array_equal(np.asarray(got), a[:, :, r0:r1, c0:c1])
        a = rng.random((3, 7, 9, 5)).astype(np.float32)
        np.testing.assert_array_equal(np.asarray(layers.Cropping2D(cropping)(a)), a[:, r0:r1, c0:c1, :])
    assert layers.Cropping2D(((2, 2), (4, 4)))(np.zeros((2, 28, 28, 3))).shape == (2, 24, 20, 3)
    assert layers.Cropping1D((1, 2))(sym((1, None, 7))).shape == (1, None, 7)
    assert layers.Cropping2D(((1, 2), (3, 4)))(sym((1, 7, None, 5))).shape == (1, 4, None, 5)
    assert layers.Cropping2D(((1, 2), (3, 4)), data_format="channels_first")(
        sym((1, 5, 7, None))).shape == (1, 5, 4, None)
    c = layers.Cropping2D(((1, 2), (3, 4)), data_format="channels_first").get_config()
    assert c["cropping"] == ((1, 2), (3, 4)) and c["data_format"] == "channels_first"
    assert layers.Cropping1D.from_config(layers.Cropping1D((2, 0)).get_config()).cropping == (2, 0)


def test_cropping_errors():
    for bad in [(1,), (1, 2, 3), "1", (1, -1)]:
        with pytest.raises(ValueError, match="Cropping1D: `cropping` must be"):
            layers.Cropping1D(cropping=bad)
    for bad in [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3"), -1]:
        with pytest.raises(ValueError, match="Cropping2D: `cropping"):
            layers.Cropping2D(cropping=bad)
    # cropping that leaves nothing: symbolically and on data
    with pytest.raises(ValueError, match=r"cropping \(2, 3\) must leave at least one element of axis 1 \(of size 5\)"):
        layers.Cropping1D(cropping=(2, 3))(sym((3, 5, 7)))
    with pytest.raises(ValueError, match=r"\(Cropping1D\): cropping \(3, 3\) must leave"):
        layers.Cropping1D(cropping=(3, 3))(np.zeros((3, 5, 7)))
    for fmt in FORMATS:
        for cropping in [((3, 6), (0, 0)), ((0, 0), (5, 4))]:
            with pytest.raises(ValueError, match="must leave at least one element"):
                layers.Cropping2D(cropping, data_format=fmt)(sym((3, 9, 9, 9)))
        for cropping in [((4, 5), (0, 0)), ((0, 0), (5, 5)), ((6, 3), (0, 0)), ((0, 0), (7, 3))]:
            shape = (3, 5, 8, 9) if fmt == "channels_first" else (3, 8, 9, 5)
            with pytest.raises(ValueError, match=r"\(Cropping2D\): cropping .* must leave at least one element"):
                layers.Cropping2D(cropping, data_format=fmt)(np.zeros(shape))
    with pytest.raises(ValueError, match=r"\(Cropping2D\): expects inputs of rank 4 \(batch, rows, cols, channels\), "
                                         r"got shape \(2, 3, 4\)"):
        layers.Cropping2D(1)(np.zeros((2, 3, 4)))


# ---------------------------------------------------------------- UpSampling

@given(data=st.data())
def test_upsampling_layers_against_loops(data):
    dtype = data.draw(st.sampled_from(FLOATS), "dtype")
    rank = data.draw(st.sampled_from([1, 2]), "spatial rank")
    fmt = data.draw(st.sampled_from(FORMATS), "data_format") if rank == 2 else "channels_last"
    interpolation = data.draw(st.sampled_from(["nearest", "bilinear"])) if rank == 2 else "nearest"
    spatial = data.draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank), "spatial")
    factors = data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank), "factors")
    batch, channels = data.draw(st.integers(0, 3)), data.draw(st.integers(1, 3))
    a = np.random.default_rng(sum(spatial)).normal(size=shape_in(fmt, batch, spatial, channels))
    if rank == 1:
        layer = layers.UpSampling1D(factors[0], dtype=dtype)
    else:
        size = factors[0] if factors[0] == factors[1] and data.draw(st.booleans()) else tuple(factors)
        layer = layers.UpSampling2D(size, data_format=fmt, interpolation=interpolation, dtype=dtype)
    ref = bilinear_ref if interpolation == "bilinear" else nearest_ref
    expected = from_last(ref(to_last(a, fmt).astype(dtype).astype(np.float64), factors), fmt)
    assert_like_numpy(run(layer, a, dtype), expected.astype(dtype), rtol=1e-5 if dtype == "float32" else 1e-12)
    assert layer.compute_output_shape((None,) + a.shape[1:]) == (None,) + expected.shape[1:]


def test_upsampling_keras_numbers():
    # keras' up_sampling1d_test / up_sampling2d_test
    y = layers.UpSampling1D(size=2)(np.arange(12).reshape((2, 2, 3)))
    np.testing.assert_array_equal(np.asarray(y), [[[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]],
                                                  [[6, 7, 8], [6, 7, 8], [9, 10, 11], [9, 10, 11]]])
    np.testing.assert_array_equal(np.asarray(layers.UpSampling1D(size=3)(np.ones((2, 1, 5)))), np.ones((2, 3, 5)))
    x = np.arange(12).reshape((2, 2, 1, 3))
    expected = np.array([[[[0, 1, 2], [0, 1, 2]], [[3, 4, 5], [3, 4, 5]]],
                         [[[6, 7, 8], [6, 7, 8]], [[9, 10, 11], [9, 10, 11]]]], np.float32)
    np.testing.assert_array_equal(np.asarray(layers.UpSampling2D(size=(1, 2))(x)), expected)
    np.testing.assert_array_equal(
        np.asarray(layers.UpSampling2D(size=(1, 2), data_format="channels_first")(x.transpose(0, 3, 1, 2))),
        expected.transpose(0, 3, 1, 2))
    rng = np.random.default_rng(0)
    for fmt in FORMATS:
        inputs = rng.random((2, 2, 11, 12) if fmt == "channels_first" else (2, 11, 12, 2))
        rows, cols = (2, 3) if fmt == "channels_first" else (1, 2)
        for length_col in (2, 3):
            out = np.asarray(layers.UpSampling2D((2, length_col), data_format=fmt)(inputs))
            np.testing.assert_allclose(out, np.repeat(np.repeat(inputs, 2, rows), length_col, cols).astype(np.float32))
            out = layers.UpSampling2D((2, length_col), data_format=fmt, interpolation="bilinear")(inputs)
            assert out.shape[rows] == 22 and out.shape[cols] == 12 * length_col
    # symbolic shapes
    assert layers.UpSampling1D(size=2)(sym((None, 2, 3))).shape == (None, 4, 3)
    assert layers.UpSampling1D(size=4)(sym((2, None, 3))).shape == (2, None, 3)
    assert layers.UpSampling1D(size=4)(sym((2, 3, None))).shape == (2, 12, None)
    assert layers.UpSampling2D((2, 3), data_format="channels_first")(
        sym((None, 4, None, 5))).shape == (None, 4, None, 15)


def test_bilinear_known_answers():
    # jax.image.resize([0, 1], (4,), "bilinear") = [0, 0.25, 0.75, 1]: samples at -0.25, 0.25, 0.75, 1.25
    y = layers.UpSampling2D((1, 2), interpolation="bilinear")(np.array([0.0, 1.0]).reshape(1, 1, 2, 1))
    np.testing.assert_allclose(np.asarray(y).ravel(), [0, 0.25, 0.75, 1], rtol=0, atol=1e-7)
    # factor 3: samples at -1/3, 0, 1/3, 2/3, 1, 4/3 of [0, 3]
    y = layers.UpSampling2D((3, 1), interpolation="BiLinear", data_format="channels_first")(
        np.array([0.0, 3.0]).reshape(1, 1, 2, 1))
    np.testing.assert_allclose(np.asarray(y).ravel(), [0, 0, 1, 2, 3, 3], rtol=0, atol=1e-6)
    # a constant image stays constant; a ramp along the rows stays linear inside
    y = np.asarray(layers.UpSampling2D(2, interpolation="bilinear")(np.full((1, 3, 4, 2), 7.0)))
    np.testing.assert_allclose(y, 7.0, rtol=1e-6)
    assert layers.UpSampling2D(interpolation="Bilinear").get_config()["interpolation"] == "bilinear"


def test_upsampling_errors():
    for size in (0, -2):
        with pytest.raises(ValueError, match="UpSampling1D: size must be a positive int"):
            layers.UpSampling1D(size=size)
    for size in (2.5, "2", True):
        with pytest.raises(TypeError, match="UpSampling1D: size must be an int"):
            layers.UpSampling1D(size=size)
    for size in (0, (1, 0), (2,), "2", (2, 2.5)):
        with pytest.raises(ValueError, match="UpSampling2D: `size` must be"):
            layers.UpSampling2D(size=size)
    for name in ("bicubic", "lanczos3", "lanczos5", "area", "Bicubic"):
        with pytest.raises(NotImplementedError, match=f"UpSampling2D: interpolation '{name}' is not implemented"):
            layers.UpSampling2D(interpolation=name)
    with pytest.raises(ValueError, match="UpSampling2D: interpolation must be one of"):
        layers.UpSampling2D(interpolation="cubic")
    with pytest.raises(ValueError, match="UpSampling2D: data_format must be"):
        layers.UpSampling2D(data_format="channels_middle")
    with pytest.raises(ValueError, match=r"\(UpSampling1D\): expects inputs of rank 3 \(batch, steps, channels\)"):
        layers.UpSampling1D()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expects inputs of rank 4 \(batch, channels, rows, cols\)"):
        layers.UpSampling2D(data_format="channels_first")(layers.Input((3, 4)))


# ---------------------------------------------------------------- Permute, RepeatVector, Flatten

def test_permute():
    rng = np.random.default_rng(0)
    inputs = rng.random((10, 3, 5, 5)).astype(np.float32)
    got = layers.Permute((3, 1, 2))(inputs)
    for n, i, j, k in itertools.product(range(10), range(5), range(3), range(5)):
        assert got[n, i, j, k].item() == inputs[n, j, k, i]
    assert got.shape == (10, 5, 3, 5)
    assert layers.Permute((2, 1))(sym((None, 3, 5))).shape == (None, 5, 3)
    assert layers.Permute((1,))(np.ones((2, 3))).shape == (2, 3)
    for dims in [(0, 1, 2), (1, 4, 2), (1, 1)]:
        with pytest.raises(ValueError, match="Permute: dims must be a permutation of"):
            layers.Permute(dims)
    with pytest.raises(TypeError, match="Permute: dims must be a sequence of ints"):
        layers.Permute(3)
    with pytest.raises(ValueError, match=r"\(Permute\): expects inputs of rank 3"):
        layers.Permute((2, 1))(np.zeros((2, 3, 4, 5)))
    assert layers.Permute.from_config(layers.Permute((2, 3, 1)).get_config()).dims == (2, 3, 1)


def test_repeat_vector():
    rng = np.random.default_rng(0)
    inputs = rng.random((2, 5)).astype(np.float32)
    got = layers.RepeatVector(3)(inputs)
    expected = np.empty((2, 3, 5), np.float32)
    for b, r, f in itertools.product(range(2), range(3), range(5)):
        expected[b, r, f] = inputs[b, f]
    assert_like_numpy(got, expected)
    assert got.is_contiguous()
    assert layers.RepeatVector(n=3)(sym((None, 5))).shape == (None, 3, 5)
    assert layers.RepeatVector(n=3)(sym((2, None))).shape == (2, 3, None)
    for n in ("3", 3.5, [3], True):
        with pytest.raises(TypeError, match="RepeatVector: n must be an int"):
            layers.RepeatVector(n=n)
    for n in (0, -3):
        with pytest.raises(ValueError, match="RepeatVector: n must be a positive int"):
            layers.RepeatVector(n=n)
    with pytest.raises(ValueError, match=r"\(RepeatVector\): expects inputs of rank 2"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4)))
    assert pynn.utils.gradcheck(lambda t: layers.RepeatVector(3, dtype="float64")(t) * np.arange(12.0).reshape(1, 3, 4),
                                [rng.normal(size=(2, 4))])


@pytest.mark.parametrize("dtype", FLOATS)
def test_flatten_data_format(dtype):
    # keras' flatten_test: channels_first moves the channels last before flattening
    inputs = np.random.default_rng(0).random((10, 3, 5, 5)).astype(dtype)
    last = layers.Flatten(dtype=dtype)(inputs)
    assert_like_numpy(last, inputs.reshape(-1, 75))
    x = pynn.tensor(inputs)
    assert np.shares_memory(np.asarray(layers.Flatten(dtype=dtype)(x)), np.asarray(x))  # contiguous: a view
    first = layers.Flatten(data_format="channels_first", dtype=dtype)(inputs)
    expected = np.empty((10, 75), dtype)
    for n, h, w, c in itertools.product(range(10), range(5), range(5), range(3)):
        expected[n, (h * 5 + w) * 3 + c] = inputs[n, c, h, w]
    assert_like_numpy(first, expected)
    for fmt in (None, "channels_last", "channels_first"):
        scalar = np.random.default_rng(1).random(10).astype(dtype)
        assert_like_numpy(layers.Flatten(data_format=fmt, dtype=dtype)(scalar), scalar[:, None])
    # a channels_first input with one channel is still a view
    one = pynn.tensor(inputs[:, :1])
    assert np.shares_memory(np.asarray(layers.Flatten(data_format="channels_first", dtype=dtype)(one)),
                            np.asarray(one))
    assert layers.Flatten()(sym((None, 2, 3))).shape == (None, 6)
    assert layers.Flatten(data_format="channels_first")(sym((5, 2, None))).shape == (5, None)
    assert layers.Flatten(data_format="CHANNELS_FIRST").get_config()["data_format"] == "channels_first"
    assert layers.Flatten.from_config(layers.Flatten(data_format="channels_first").get_config()).data_format == \
        "channels_first"
    with pytest.raises(ValueError, match="Flatten: data_format must be"):
        layers.Flatten(data_format="nhwc")
    assert pynn.utils.gradcheck(lambda t: layers.Flatten(data_format="channels_first", dtype="float64")(t)
                                * np.arange(24.0), [np.random.default_rng(2).normal(size=(1, 2, 3, 4))])


# ---------------------------------------------------------------- gradients of the layers

@pytest.mark.parametrize("fmt", FORMATS)
def test_layer_gradients(fmt):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4, 2) if fmt == "channels_last" else (2, 2, 3, 4))
    for layer in [layers.ZeroPadding2D(((1, 2), (0, 1)), data_format=fmt, dtype="float64"),
                  layers.Cropping2D(((1, 0), (1, 2)), data_format=fmt, dtype="float64"),
                  layers.UpSampling2D((2, 3), data_format=fmt, dtype="float64"),
                  layers.UpSampling2D((3, 2), data_format=fmt, interpolation="bilinear", dtype="float64")]:
        w = rng.normal(size=layer(x).shape)
        assert pynn.utils.gradcheck(lambda t: layer(t) * w, [x])
    x3 = rng.normal(size=(2, 3, 2))
    for layer in [layers.ZeroPadding1D((2, 1), data_format=fmt, dtype="float64"),
                  layers.Cropping1D((1, 1), dtype="float64"), layers.UpSampling1D(3, dtype="float64"),
                  layers.Permute((2, 1), dtype="float64")]:
        w = rng.normal(size=layer(x3).shape)
        assert pynn.utils.gradcheck(lambda t: layer(t) * w, [x3])


# ---------------------------------------------------------------- spatial dropout

@pytest.mark.parametrize("dtype", FLOATS)
def test_spatial_dropout_shares_one_mask_per_sample_and_channel(dtype):
    pynn.random.seed(0)
    rate = 0.4
    for layer, shape, channel_axis in [(layers.SpatialDropout1D(rate, dtype=dtype), (6, 5, 7), 2),
                                       (layers.SpatialDropout2D(rate, dtype=dtype), (6, 3, 4, 7), 3),
                                       (layers.SpatialDropout2D(rate, data_format="channels_first", dtype=dtype),
                                        (6, 7, 3, 4), 1)]:
        a = np.random.default_rng(1).normal(size=shape).astype(dtype) + 3  # no zeros of its own
        y = np.asarray(layer(a, training=True))
        ratio = y / a
        for n in range(shape[0]):
            for c in range(shape[channel_axis]):
                plane = np.take(ratio[n], c, axis=channel_axis - 1)
                # one mask value for the whole map: all dropped, or all kept and scaled
                if plane.reshape(-1)[0] == 0:
                    np.testing.assert_array_equal(plane, 0)
                else:
                    np.testing.assert_allclose(plane, 1 / (1 - rate), rtol=1e-6)
        kept = np.array([np.take(ratio[n], c, axis=channel_axis - 1).reshape(-1)[0] != 0
                         for n in range(shape[0]) for c in range(shape[channel_axis])])
        assert 0 < kept.sum() < kept.size
        # inference (and no training flag): the identity
        assert_like_numpy(layer(a, training=False), a)
        assert_like_numpy(layer(a), a)


def test_spatial_dropout_keras_checks_and_config():
    # keras' spatial_dropout_test: the same values along the spatial axes
    out = np.asarray(layers.SpatialDropout1D(0.5)(np.ones((10, 3, 10)), training=True))
    np.testing.assert_array_equal(out[:, 0, :], out[:, 1, :])
    out = np.asarray(layers.SpatialDropout2D(0.5)(np.ones((10, 3, 3, 10)), training=True))
    np.testing.assert_array_equal(out[:, 0, 0, :], out[:, 1, 1, :])
    out = np.asarray(layers.SpatialDropout2D(0.5, data_format="channels_first")(np.ones((10, 10, 3, 3)), training=True))
    np.testing.assert_array_equal(out[:, :, 0, 0], out[:, :, 1, 1])
    assert layers.SpatialDropout1D(0.5).built and layers.SpatialDropout2D(0.5).built
    assert layers.SpatialDropout2D(0.5)(layers.Input((3, 2, 4))).shape == (None, 3, 2, 4)
    with pytest.raises(ValueError, match=r"\(SpatialDropout2D\): expects inputs of rank 4 \(batch, channels, rows, "
                                         r"cols\), got shape \(None, 3, 2\)"):
        layers.SpatialDropout2D(0.5, data_format="channels_first")(layers.Input((3, 2)))
    with pytest.raises(ValueError, match=r"\(SpatialDropout1D\): expects inputs of rank 3"):
        layers.SpatialDropout1D(0.5)(np.ones((2, 3)), training=False)
    with pytest.raises(ValueError, match="rate must be a number in"):
        layers.SpatialDropout1D(1.5)
    c = layers.SpatialDropout2D(0.3, data_format="channels_first", seed=3).get_config()
    assert c["rate"] == 0.3 and c["seed"] == 3 and c["data_format"] == "channels_first" and "noise_shape" not in c
    again = layers.SpatialDropout2D.from_config(c)
    assert again.data_format == "channels_first" and again.noise_shape == (None, None, 1, 1)
    # a seed gives the same masks
    a = np.ones((4, 2, 2, 6), np.float32)
    np.testing.assert_array_equal(np.asarray(layers.SpatialDropout2D(0.5, seed=5)(a, training=True)),
                                  np.asarray(layers.SpatialDropout2D(0.5, seed=5)(a, training=True)))


def test_spatial_dropout_gradient_uses_the_same_mask():
    layer = layers.SpatialDropout2D(0.5, seed=1, dtype="float64")
    x = pynn.tensor(np.random.default_rng(0).normal(size=(3, 2, 2, 4)))
    with pynn.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        total = pynn.sum(y)
    g = np.asarray(tape.gradient(total, x))
    np.testing.assert_allclose(g * np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- captured training

def test_image_model_with_the_new_layers_trains_captured_as_eager():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(70, 6, 5, 2)).astype(np.float32)
    y = (x[:, :3].mean(axis=(1, 2, 3)) > 0).astype(np.int64) + (x[..., 1].mean(axis=(1, 2)) > 0)

    def make(**options):
        m = pynn.Sequential([
            layers.Input((6, 5, 2)),
            layers.ZeroPadding2D(((1, 0), (2, 1))),
            layers.Cropping2D(((0, 1), (1, 0))),
            layers.UpSampling2D((2, 1)),
            layers.UpSampling2D((1, 2), interpolation="bilinear"),
            layers.SpatialDropout2D(0.3),
            layers.Permute((3, 1, 2)),
            layers.Flatten(data_format="channels_first"),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    def fit(m):
        history = m.fit(x, y, batch_size=16, epochs=3, verbose=0).history
        return history, m.predict(x[:9], verbose=0)

    ((ha, pa), a), ((hb, pb), b) = captured_and_eager(make, fit)
    assert ha == hb
    np.testing.assert_array_equal(pa, pb)
    assert_same_state(a, b)
    assert ha["loss"][-1] < ha["loss"][0]  # it learns


@pytest.mark.parametrize("mode", MODES)
def test_pad_in_a_captured_step(mode):
    # a custom layer padding with every mode: the captured step replays pad as the eager one runs it
    class Padded(layers.Layer):
        def call(self, inputs):
            return pynn.pad(inputs, ((0, 0), (2, 3), (1, 1)), mode=mode)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[1] + 5, input_shape[2] + 2)

    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 3, 4)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int64)

    def make(**options):
        m = pynn.Sequential([layers.Input((3, 4)), layers.Dense(4), Padded(), layers.Flatten(),
                             layers.Dense(2, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **options)
        return m

    ((ha, a), (hb, b)) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=8, epochs=2, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)


def test_layers_round_trip_through_a_model_config():
    m = pynn.Sequential([layers.Input((4, 6, 3)), layers.ZeroPadding2D(1, data_format="channels_first"),
                         layers.Cropping2D((1, 2)), layers.UpSampling2D(2, interpolation="bilinear"),
                         layers.SpatialDropout2D(0.2, seed=1), layers.Flatten(data_format="channels_first")])
    again = pynn.Sequential.from_config(m.get_config())
    assert [type(layer).__name__ for layer in again.layers] == [type(layer).__name__ for layer in m.layers]
    a = np.random.default_rng(0).random((2, 4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(again.predict(a, verbose=0)), np.asarray(m.predict(a, verbose=0)))
    r = pynn.Sequential([layers.Input((5,)), layers.RepeatVector(3), layers.Permute((2, 1)),
                         layers.UpSampling1D(2), layers.Cropping1D((1, 2)), layers.ZeroPadding1D(1),
                         layers.SpatialDropout1D(0.1)])
    again = pynn.Sequential.from_config(r.get_config())
    b = np.random.default_rng(1).random((2, 5)).astype(np.float32)
    out = r.predict(b, verbose=0)
    assert out.shape == (2, 9, 3)  # (3, 5) -> (5, 3) -> (10, 3) -> (7, 3) -> (9, 3)
    np.testing.assert_array_equal(np.asarray(again.predict(b, verbose=0)), out)


@pytest.mark.parametrize("mode", ["wrap", "reflect", "symmetric", "edge"])
def test_pad_far_wider_than_the_axis_matches_numpy_and_sums_gradients(mode):
    """Widths of many periods take the doubling path (Note in pynn/_pad.py): the same values as np.pad,
    and each input element's gradient counts every copy of it."""
    a = np.arange(12.0).reshape(3, 4)
    widths = ((40, 41), (9, 23))
    x = pynn.Variable(a)
    with pynn.GradientTape() as tape:
        y = pynn.pad(x, widths, mode=mode)
    assert_like_numpy(y, np.pad(a, widths, mode=mode))
    counts = np.zeros_like(a)
    index = np.pad(np.arange(a.size).reshape(a.shape), widths, mode=mode)
    np.add.at(counts.reshape(-1), index.reshape(-1), 1)
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, x)), counts)


def test_pad_too_big_is_a_value_error_before_any_work():
    with pytest.raises(ValueError, match=r"pad: the result of shape .* is too big"):
        pynn.pad(pynn.ones((7, 7)), 2 ** 40, mode="wrap")
