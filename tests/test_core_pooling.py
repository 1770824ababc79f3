"""Max and average pooling (ops.max_pool / average_pool, Note [Pooling] in csrc/kernels/pool.h) and the pooling
layers, against NumPy float64 loops written here; Keras 3's stated shapes and numbers; gradients by central
differences; a small model with pooling trains captured as it does eagerly."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pynn
from pynn import _core, layers, ops
from pynn.utils import GradcheckError, gradcheck

from oracle import assert_like_numpy, assert_same_state, captured_and_eager, threads  # noqa: F401


# ---------------------------------------------------------------- the oracle

def ref_extent(size, pool, stride, padding):
    """(output size, pad before) of one axis: TensorFlow's "same" (out = ceil(size / stride), the total pad
    max((out - 1) * stride + pool - size, 0) with the smaller half first) or "valid"."""
    if padding == "valid":
        return (size - pool) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + pool - size, 0) // 2


def ref_windows(x, pool, strides, padding):
    """x (N, *spatial, C) float64 channels_last. Yields (n, out index, c, positions) for every output, the
    positions of its window inside the image in row-major order (padding excluded)."""
    spatial = x.shape[1:-1]
    extents = [ref_extent(s, p, st_, padding) for s, p, st_ in zip(spatial, pool, strides)]
    for n in range(x.shape[0]):
        for o in itertools.product(*[range(out) for out, _ in extents]):
            ranges = [range(max(oi * st_ - pad, 0), min(oi * st_ - pad + p, size))
                      for oi, (_, pad), st_, p, size in zip(o, extents, strides, pool, spatial)]
            positions = list(itertools.product(*ranges))
            for c in range(x.shape[-1]):
                yield n, o, c, positions


def channels_last(a, fmt):
    return np.moveaxis(a, 1, -1) if fmt == "channels_first" else a


def channels_back(a, fmt):
    return np.moveaxis(a, -1, 1) if fmt == "channels_first" else a


def ref_pool(x, kind, pool, strides, padding, fmt, g=None):
    """The pooled x (in float64, in x's data format) and, given g (the output's gradient), the gradient of
    x: max gives each window's g to its first largest element (its first NaN when it has one), average
    spreads g / (the number of real elements) over the window."""
    xl = channels_last(np.asarray(x, np.float64), fmt)
    extents = [ref_extent(s, p, st_, padding) for s, p, st_ in zip(xl.shape[1:-1], pool, strides)]
    y = np.zeros((xl.shape[0],) + tuple(out for out, _ in extents) + (xl.shape[-1],))
    gl = None if g is None else channels_last(np.asarray(g, np.float64), fmt)
    dx = np.zeros_like(xl)
    for n, o, c, positions in ref_windows(xl, pool, strides, padding):
        values = [xl[(n,) + p + (c,)] for p in positions]
        if kind == "max":
            nans = [i for i, v in enumerate(values) if np.isnan(v)]
            best = nans[0] if nans else int(np.argmax(values))  # argmax: the first of ties
            y[(n,) + o + (c,)] = values[best]
            if gl is not None:
                dx[(n,) + positions[best] + (c,)] += gl[(n,) + o + (c,)]
        else:
            y[(n,) + o + (c,)] = sum(values) / len(values)
            if gl is not None:
                for p in positions:
                    dx[(n,) + p + (c,)] += gl[(n,) + o + (c,)] / len(positions)
    return channels_back(y, fmt), channels_back(dx, fmt)


OPS = {"max": ops.max_pool, "avg": ops.average_pool}


def check_against_oracle(x_np, x, kind, pool, strides, padding, fmt, rng):
    """The op's output and its tape gradient (for a random output gradient) against ref_pool."""
    xt = x if isinstance(x, pynn.Tensor) else pynn.tensor(x)
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = OPS[kind](xt, pool, strides, padding, fmt)
        r = rng.standard_normal(y.shape).astype(x_np.dtype)
        loss = ops.sum(ops.multiply(y, r))
    dx = tape.gradient(loss, xt)
    nd = x_np.ndim - 2
    pool_t = (pool,) * nd if isinstance(pool, int) else tuple(pool)
    strides_t = pool_t if strides is None else (strides,) * nd if isinstance(strides, int) else tuple(strides)
    want_y, want_dx = ref_pool(x_np, kind, pool_t, strides_t, padding, fmt, r)
    tol = {} if x_np.dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}
    assert_like_numpy(y, want_y.astype(x_np.dtype), **tol)
    assert_like_numpy(dx, want_dx.astype(x_np.dtype), **tol)


def layout(a, kind):
    """The values of a as a NumPy view with other strides."""
    if kind == "stepped":  # stride 2 along channels
        return np.repeat(a, 2, axis=-1)[..., ::2]
    if kind == "reversed":  # negative strides along the first spatial axis and the channels
        return a[:, ::-1, ..., ::-1].copy()[:, ::-1, ..., ::-1]
    if kind == "fortran":
        return np.asfortranarray(a)
    return a


# ---------------------------------------------------------------- the ops against the oracle

@given(data=st.data())
def test_pooling_matches_numpy_loops(data):
    nd = data.draw(st.sampled_from([1, 2]), label="spatial dims")
    spatial = data.draw(st.lists(st.integers(1, 7), min_size=nd, max_size=nd), label="spatial")
    n, c = data.draw(st.integers(0, 3), label="batch"), data.draw(st.integers(0, 4), label="channels")
    pool = tuple(data.draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd), label="pool"))
    strides = data.draw(st.one_of(st.none(), st.lists(st.integers(1, 4), min_size=nd, max_size=nd).map(tuple)),
                        label="strides")
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    fmt = data.draw(st.sampled_from(["channels_last", "channels_first"]), label="data_format")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    kind = data.draw(st.sampled_from(["max", "avg"]), label="kind")
    view = data.draw(st.sampled_from(["contiguous", "stepped", "reversed", "fortran"]), label="layout")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    shape = (n, c, *spatial) if fmt == "channels_first" else (n, *spatial, c)
    x = layout(rng.standard_normal(shape).astype(dtype), view)
    if padding == "valid" and any(p > s for p, s in zip(pool, spatial)):
        with pytest.raises(ValueError, match="zero or negative"):
            OPS[kind](x, pool, strides, padding, fmt)
        return
    check_against_oracle(x, pynn.from_numpy(x), kind, pool, strides, padding, fmt, rng)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_views_made_by_pynn_and_negative_strides(kind, fmt):
    rng = np.random.default_rng(1)
    big = rng.standard_normal((3, 9, 12, 10))
    for key in [(slice(None), slice(None, None, -1), slice(1, None, 2), slice(None, None, 3)),
                (slice(None, None, -1), slice(2, 8), slice(None, None, -2), slice(None, None, -1))]:
        x_np = big[key]
        check_against_oracle(x_np, pynn.tensor(big)[key], kind, (2, 3), (1, 2), "same", fmt, rng)
    # a channels_first input that is the transpose of a channels_last array: C contiguous again
    x_np = np.ascontiguousarray(big).transpose(0, 3, 1, 2)
    check_against_oracle(x_np, pynn.from_numpy(x_np), kind, 3, 2, "valid", "channels_first", rng)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_size_one_dims_and_windows_of_one(kind):
    rng = np.random.default_rng(2)
    for shape, pool, strides, padding in [((1, 1, 1, 1), 1, None, "valid"), ((1, 1, 1, 1), 3, 2, "same"),
                                          ((2, 1, 5, 3), (1, 2), 1, "valid"), ((1, 4, 1, 1), (4, 1), None, "valid"),
                                          ((3, 1, 1), 1, 1, "same"), ((1, 6, 1), 6, None, "valid"),
                                          ((1, 1, 6), 5, 1, "same"), ((2, 3, 3, 2), 1, 1, "valid")]:
        x = rng.standard_normal(shape)
        for fmt in ("channels_last", "channels_first"):
            spatial = shape[1:-1] if fmt == "channels_last" else shape[2:]
            pools = (pool,) * len(spatial) if isinstance(pool, int) else pool
            if padding == "valid" and any(p > s for p, s in zip(pools, spatial)):
                with pytest.raises(ValueError, match="zero or negative"):
                    OPS[kind](x, pool, strides, padding, fmt)
                continue
            check_against_oracle(x, pynn.tensor(x), kind, pool, strides, padding, fmt, rng)
    # pool 1, stride 1: the identity
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    assert_like_numpy(OPS[kind](x, 1), x)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_overlapping_windows(kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 9, 8, 3))
    for pool, strides, padding in [(3, 1, "valid"), ((4, 3), (2, 1), "same"), ((5, 5), (3, 2), "same"),
                                   (4, 1, "same")]:
        check_against_oracle(x, pynn.tensor(x), kind, pool, strides, padding, "channels_last", rng)
        check_against_oracle(x, pynn.tensor(x), kind, pool, strides, padding, "channels_first", rng)
    x1 = rng.standard_normal((2, 11, 3))
    check_against_oracle(x1, pynn.tensor(x1), kind, 4, 1, "same", "channels_last", rng)


def test_empty_inputs():
    for kind, op in OPS.items():
        x = np.zeros((0, 4, 5, 3), np.float32)
        assert op(x, 2).shape == (0, 2, 2, 3)
        assert op(np.zeros((2, 4, 5, 0)), 2, padding="same").shape == (2, 2, 3, 0)
        assert op(np.zeros((2, 0, 3)), 2, padding="same").shape == (2, 0, 3)  # same: ceil(0 / 2) steps
        xt = pynn.tensor(np.zeros((0, 3, 4)))
        with pynn.GradientTape() as tape:
            tape.watch(xt)
            y = op(xt, 2, data_format="channels_first")
        assert y.shape == (0, 3, 2) and tape.gradient(y, xt).shape == (0, 3, 4)
        with pytest.raises(ValueError, match="zero or negative"):  # valid: Keras' rule, even for 0 steps
            op(np.zeros((2, 0, 3)), 2)


def test_max_pool_nan_inf_and_padding_never_wins():
    x = np.array([[1.0, np.nan, 3.0, 4.0, -np.inf, -np.inf, 2.0, np.nan]]).reshape(1, 8, 1)
    y = np.asarray(ops.max_pool(x, 2))
    np.testing.assert_array_equal(y.ravel(), [np.nan, 4.0, -np.inf, np.nan])
    # overlapping windows: each window holding the NaN is NaN, the others are not
    y = np.asarray(ops.max_pool(x, 3, 1, padding="same")).ravel()
    np.testing.assert_array_equal(y, [np.nan, np.nan, np.nan, 4.0, 4.0, 2.0, np.nan, np.nan])
    # padding never wins: negative inputs stay negative at the borders (a zero pad would give 0)
    neg = -1.0 - np.arange(25.0).reshape(1, 5, 5, 1)
    y = np.asarray(ops.max_pool(neg, 3, 2, padding="same"))
    assert (y < 0).all()
    # each window's top-left element: rows and columns 0, 1, 3 (one pad row and column before)
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -2, -4], [-6, -7, -9], [-16, -17, -19]])
    # the gradient of a window with a NaN goes to its (first) NaN
    xt = pynn.tensor(np.array([[[0.0], [np.nan], [5.0], [np.nan]]]))
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = ops.max_pool(xt, 4)
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, xt)).ravel(), [0, 1, 0, 0])


def test_ties_give_the_gradient_to_the_first_largest():
    x = np.array([[5, 5, 1], [5, 2, 5], [0, 5, 5]], np.float64).reshape(1, 3, 3, 1)
    for fmt in ("channels_last", "channels_first"):
        xv = x if fmt == "channels_last" else x.transpose(0, 3, 1, 2)
        check_against_oracle(xv, pynn.tensor(xv), "max", 2, 1, "valid", fmt, np.random.default_rng(4))
    xt = pynn.tensor(x)
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = ops.max_pool(xt, 2, 1)
    # the four overlapping windows' maxima are all 5: each goes to the first 5 of its window in row-major order
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, xt))[0, :, :, 0], [[1, 1, 0], [1, 0, 1], [0, 0, 0]])


def test_average_pool_counts_only_real_elements():
    """Keras / TensorFlow "same" average: the border windows divide by the elements they hold."""
    x = np.ones((1, 5, 5, 1))
    np.testing.assert_array_equal(np.asarray(ops.average_pool(x, 3, 2, padding="same")), np.ones((1, 3, 3, 1)))
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = np.asarray(ops.average_pool(x, 3, 1, padding="same"))[0, :, :, 0]
    np.testing.assert_allclose(y, [[3, 3.5, 4], [4.5, 5, 5.5], [6, 6.5, 7]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtypes_kept_and_others_refused(dtype):
    x = np.random.default_rng(5).standard_normal((2, 4, 4, 3)).astype(dtype)
    for op in OPS.values():
        assert op(x, 2).dtype == dtype
    for bad in ("int32", "int64", "uint8", "bool"):
        for op in (ops.max_pool, ops.average_pool, ops.max_pool2d, ops.avg_pool1d):
            with pytest.raises(TypeError, match=r"float32 or float64.*" + bad):
                op(np.ones((1, 4, 4, 2) if op is not ops.avg_pool1d else (1, 4, 2), bad), 2)


def test_one_and_two_threads_agree_with_numpy_and_each_other(threads):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 24, 22, 16)).astype(np.float32)
    for kind, op in OPS.items():
        for fmt in ("channels_last", "channels_first"):
            xv = x if fmt == "channels_last" else x.transpose(0, 3, 1, 2)
            check_against_oracle(xv, pynn.from_numpy(xv), kind, 3, 2, "same", fmt, rng)
            g = rng.standard_normal(op(xv, 3, 2, "same", fmt).shape).astype(np.float32)

            def run():
                xt = pynn.tensor(xv)
                with pynn.GradientTape() as tape:
                    tape.watch(xt)
                    y = op(xt, 3, 2, "same", fmt)
                    loss = ops.sum(ops.multiply(y, g))
                return np.asarray(y).copy(), np.asarray(tape.gradient(loss, xt)).copy()
            here = run()
            pynn.set_num_threads(1)
            try:
                alone = run()
            finally:
                pynn.set_num_threads(threads)
            np.testing.assert_array_equal(here[0], alone[0])
            np.testing.assert_array_equal(here[1], alone[1])


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("op", [ops.max_pool, ops.average_pool])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_gradcheck(op, fmt, padding):
    rng = np.random.default_rng(7)
    for shape, pool, strides in [((2, 5, 6, 3), (3, 2), (2, 1)), ((2, 7, 3), 3, 2), ((1, 4, 4, 2), 2, None)]:
        x = rng.standard_normal(shape)
        assert gradcheck(lambda a: op(a, pool, strides, padding, fmt), [x])


@pytest.mark.parametrize("op, rank", [(ops.max_pool1d, 3), (ops.avg_pool1d, 3), (ops.max_pool2d, 4),
                                      (ops.avg_pool2d, 4)])
def test_aliases(op, rank):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 5, 3) if rank == 3 else (2, 5, 4, 3))
    assert gradcheck(lambda a: op(a, 2, 1, "same", "channels_first"), [x])
    full = ops.max_pool if "max" in op.__name__ else ops.average_pool
    assert_like_numpy(op(x, 3, 2), np.asarray(full(x, 3, 2)))
    other = np.zeros((2, 5, 4, 3) if rank == 3 else (2, 5, 3))
    with pytest.raises(ValueError, match=f"expected a {rank}-D input.*{other.shape}"):
        op(other, 2)


@pytest.mark.parametrize("op", [ops.max_pool, ops.average_pool])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_second_order_gradients(op, fmt):
    """The backward under an outer tape: the gradient of a gradient, by central differences."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 5, 4, 3))
    w = rng.standard_normal(op(x, (2, 3), (1, 2), "same", fmt).shape)

    def grad_of(a):
        with pynn.GradientTape() as inner:
            inner.watch(a)
            loss = ops.sum(ops.multiply(ops.square(op(a, (2, 3), (1, 2), "same", fmt)), w))
        return inner.gradient(loss, a)

    assert gradcheck(grad_of, [x])
    g = np.asarray(grad_of(pynn.tensor(x)))
    assert np.abs(g).sum() > 0  # not a vacuous check


def test_gradcheck_would_catch_a_wrong_gradient():
    """The gradient of average pooling is not that of max pooling: gradcheck tells them apart."""
    x = np.random.default_rng(10).standard_normal((1, 4, 4, 1))

    def wrong(a):
        y = ops.average_pool(a, 2)
        pynn.autograd.record(lambda g, ins, out, _: (pynn.ones_like(ins[0]),), (a,), y)
        return y

    with pytest.raises(GradcheckError):
        gradcheck(wrong, [x])


# ---------------------------------------------------------------- Keras' stated numbers

def test_keras_docstring_examples():
    """Keras' MaxPooling / AveragePooling docstring inputs; the values TensorFlow's docs give for them."""
    x1 = np.array([1.0, 2, 3, 4, 5]).reshape(1, 5, 1)
    for layer, want in [(layers.MaxPooling1D(2, 1, "valid"), [2, 3, 4, 5]), (layers.MaxPooling1D(2, 2), [2, 4]),
                        (layers.MaxPooling1D(2, 1, "same"), [2, 3, 4, 5, 5]),
                        (layers.AveragePooling1D(2, 1), [1.5, 2.5, 3.5, 4.5]),
                        (layers.AveragePooling1D(2, 2), [1.5, 3.5]),
                        (layers.AveragePooling1D(2, 1, "same"), [1.5, 2.5, 3.5, 4.5, 5])]:
        np.testing.assert_allclose(np.asarray(layer(x1)).ravel(), want)
    x3 = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    x34 = np.arange(1.0, 13.0).reshape(1, 3, 4, 1)
    for layer, x, want in [
            (layers.MaxPooling2D((2, 2), (1, 1), "valid"), x3, [[5, 6], [8, 9]]),
            (layers.MaxPooling2D((2, 2), (2, 2), "valid"), x34, [[6, 8]]),
            (layers.MaxPooling2D((2, 2), (1, 1), "same"), x3, [[5, 6, 6], [8, 9, 9], [8, 9, 9]]),
            (layers.AveragePooling2D((2, 2), (1, 1), "valid"), x3, [[3, 4], [6, 7]]),
            (layers.AveragePooling2D((2, 2), (2, 2), "valid"), x34, [[3.5, 5.5]]),
            (layers.AveragePooling2D((2, 2), (1, 1), "same"), x3, [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]])]:
        y = np.asarray(layer(x))
        assert y.shape == (1,) + np.shape(want) + (1,) and y.dtype == np.float32
        np.testing.assert_allclose(y[0, :, :, 0], want)


@pytest.mark.parametrize("cls, args, input_shape, output_shape", [
    # keras/src/layers/pooling/max_pooling_test.py and average_pooling_test.py, MaxPoolingBasicTest and
    # AveragePoolingBasicTest: (pool_size, strides, padding, data_format)
    (layers.MaxPooling1D, (2, 1, "valid", "channels_last"), (3, 5, 4), (3, 4, 4)),
    (layers.MaxPooling1D, (2, 1, "same", "channels_first"), (3, 5, 4), (3, 5, 4)),
    (layers.MaxPooling1D, ((2,), (2,), "valid", "channels_last"), (3, 5, 4), (3, 2, 4)),
    (layers.MaxPooling2D, (2, 1, "valid", "channels_last"), (3, 5, 5, 4), (3, 4, 4, 4)),
    (layers.MaxPooling2D, (2, 1, "same", "channels_first"), (3, 5, 5, 4), (3, 5, 5, 4)),
    (layers.MaxPooling2D, ((2, 3), (2, 2), "valid", "channels_last"), (3, 5, 5, 4), (3, 2, 2, 4)),
    (layers.AveragePooling1D, (2, 1, "valid", "channels_last"), (3, 5, 4), (3, 4, 4)),
    (layers.AveragePooling1D, (2, 1, "same", "channels_first"), (3, 5, 4), (3, 5, 4)),
    (layers.AveragePooling1D, ((2,), (2,), "valid", "channels_last"), (3, 5, 4), (3, 2, 4)),
    (layers.AveragePooling2D, (2, 1, "valid", "channels_last"), (3, 5, 5, 4), (3, 4, 4, 4)),
    (layers.AveragePooling2D, (2, 1, "same", "channels_last"), (3, 5, 5, 4), (3, 5, 5, 4)),
    (layers.AveragePooling2D, (2, 1, "valid", "channels_first"), (3, 5, 5, 4), (3, 5, 4, 3)),
    (layers.AveragePooling2D, (2, 1, "same", "channels_first"), (3, 5, 5, 4), (3, 5, 5, 4)),
    (layers.AveragePooling2D, ((2, 3), (2, 2), "valid", "channels_last"), (3, 5, 5, 4), (3, 2, 2, 4)),
    (layers.AveragePooling2D, ((2, 3), (2, 2), "same", "channels_last"), (3, 5, 5, 4), (3, 3, 3, 4)),
    (layers.AveragePooling2D, ((2, 3), (3, 3), "same", "channels_first"), (3, 5, 5, 4), (3, 5, 2, 2)),
])
def test_keras_layer_shapes(cls, args, input_shape, output_shape):
    pool_size, strides, padding, data_format = args
    layer = cls(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    assert layer.built and layer.weights == [] and layer.count_params() == 0  # built at construction, as Keras
    x = np.random.default_rng(11).standard_normal(input_shape).astype(np.float32)
    y = layer(x)
    assert y.shape == output_shape and y.dtype == np.float32
    assert layer.compute_output_shape(input_shape) == output_shape
    kind = "max" if cls.__name__.startswith("Max") else "avg"
    nd = len(input_shape) - 2
    pool = (pool_size,) * nd if isinstance(pool_size, int) else pool_size
    stride = (strides,) * nd if isinstance(strides, int) else strides
    assert_like_numpy(y, ref_pool(x, kind, pool, stride, padding, data_format)[0].astype(np.float32))
    # symbolic: None for the batch
    out = cls(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)(
        layers.Input(input_shape[1:]))
    assert out.shape == (None,) + output_shape[1:]


@pytest.mark.parametrize("cls, shape, args", [
    # MaxPoolingCorrectnessTest / AveragePoolingCorrectnessTest: np.arange inputs
    *[(layers.MaxPooling1D, (2, 3, 4), a) for a in [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
                                                    (2, 1, "same", "channels_last"), (2, 1, "same", "channels_first"),
                                                    ((2,), (2,), "valid", "channels_last"),
                                                    ((2,), (2,), "valid", "channels_first")]],
    *[(layers.MaxPooling2D, (1, 5, 5, 4), a) for a in [(2, 1, "valid", "channels_last"),
                                                       (2, 1, "valid", "channels_first"),
                                                       ((2, 2), (2, 2), "same", "channels_last"),
                                                       ((2, 2), (2, 2), "same", "channels_first"),
                                                       ((2, 3), (3, 3), "same", "channels_last")]],
    *[(layers.AveragePooling1D, (2, 3, 4), a) for a in [(2, 1, "valid", "channels_last"),
                                                        (2, 1, "valid", "channels_first"),
                                                        ((2,), (2,), "valid", "channels_last"),
                                                        ((2,), (2,), "valid", "channels_first"),
                                                        (2, 1, "same", "channels_last"),
                                                        (2, 1, "same", "channels_first"),
                                                        ((2,), (2,), "same", "channels_last"),
                                                        ((2,), (2,), "same", "channels_first")]],
    *[(layers.AveragePooling2D, (1, 4, 4, 1), a) for a in [(2, 1, "valid", "channels_last"),
                                                           ((2, 3), (2, 2), "valid", "channels_last"),
                                                           (2, (2, 1), "same", "channels_last"),
                                                           (2, (2, 1), "same", "channels_first"),
                                                           ((2, 2), (2, 2), "same", "channels_last"),
                                                           ((2, 2), (2, 2), "same", "channels_first")]],
])
def test_keras_correctness_cases(cls, shape, args):
    pool_size, strides, padding, data_format = args
    x = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    y = cls(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)(x)
    nd = len(shape) - 2
    pool = (pool_size,) * nd if isinstance(pool_size, int) else pool_size
    stride = (strides,) * nd if isinstance(strides, int) else strides
    assert_like_numpy(y, ref_pool(x, "max" if "Max" in cls.__name__ else "avg", pool, stride, padding,
                                  data_format)[0].astype(np.float32))


def test_keras_ops_shapes_and_values():
    """keras/src/ops/nn_test.py: max_pool / average_pool shapes and np.arange cases, both data formats."""
    for fmt in ("channels_last", "channels_first"):
        cl = fmt == "channels_last"
        for op in (ops.max_pool, ops.average_pool):
            x = np.zeros((1, 8, 3) if cl else (1, 3, 8))
            assert op(x, 2, 1, data_format=fmt).shape == ((1, 7, 3) if cl else (1, 3, 7))
            assert op(x, 2, 2, padding="same", data_format=fmt).shape == ((1, 4, 3) if cl else (1, 3, 4))
            x = np.zeros((1, 8, 8, 3) if cl else (1, 3, 8, 8))
            assert op(x, 2, 1, data_format=fmt).shape == ((1, 7, 7, 3) if cl else (1, 3, 7, 7))
            assert op(x, 2, 2, padding="same", data_format=fmt).shape == ((1, 4, 4, 3) if cl else (1, 3, 4, 4))
            assert op(x, (2, 2), (2, 2), "same", fmt).shape == ((1, 4, 4, 3) if cl else (1, 3, 4, 4))
        x1 = np.arange(120, dtype=float).reshape((2, 20, 3) if cl else (2, 3, 20))
        x2 = np.arange(540, dtype=float).reshape((2, 10, 9, 3) if cl else (2, 3, 10, 9))
        for kind, args in [("max", (x1, (2,), (1,), "valid")), ("max", (x1, (2,), (2,), "same")),
                           ("max", (x2, (2, 2), (1, 1), "valid")), ("max", (x2, (2, 2), (2, 1), "same")),
                           ("avg", (x1, (2,), (1,), "valid")), ("avg", (x2, (2, 2), (1, 1), "valid")),
                           ("avg", (x1, (2,), (2,), "same")), ("avg", (x2, (2, 2), (2, 1), "same"))]:
            x, pool, strides, padding = args
            y = OPS[kind](x, pool if len(pool) > 1 else pool[0], strides, padding, fmt)
            assert_like_numpy(y, ref_pool(x, kind, pool, strides, padding, fmt)[0])


@pytest.mark.parametrize("cls, reduce", [(layers.GlobalAveragePooling1D, np.mean), (layers.GlobalMaxPooling1D, np.max),
                                         (layers.GlobalAveragePooling2D, np.mean), (layers.GlobalMaxPooling2D, np.max)])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls, reduce, fmt, keepdims):
    nd = 1 if cls.__name__.endswith("1D") else 2
    # global_*_pooling_test.py: the stated shapes for (3, 5, 4) / (3, 5, 6, 4) and np.arange values
    in_shape = (3, 5, 4) if nd == 1 else (3, 5, 6, 4)
    want = {("channels_last", False): (3, 4), ("channels_first", False): (3, 5),
            ("channels_last", True): (3, 1, 4) if nd == 1 else (3, 1, 1, 4),
            ("channels_first", True): (3, 5, 1) if nd == 1 else (3, 5, 1, 1)}[fmt, keepdims]
    layer = cls(data_format=fmt, keepdims=keepdims)
    assert layer.built and layer.compute_output_shape(in_shape) == want
    assert layer.compute_output_shape((None,) + in_shape[1:]) == (None,) + want[1:]
    axes = tuple(range(1, 1 + nd)) if fmt == "channels_last" else tuple(range(2, 2 + nd))
    for x in (np.arange(24, dtype="float32").reshape(2, 3, 4) if nd == 1 else
              np.arange(96, dtype="float32").reshape(2, 3, 4, 4),
              np.random.default_rng(12).standard_normal(in_shape)[..., ::-1]):
        assert_like_numpy(layer(x), reduce(x.astype(np.float64), axis=axes, keepdims=keepdims).astype(np.float32))
    assert gradcheck(lambda a: cls(data_format=fmt, keepdims=keepdims, dtype="float64")(a),
                     [np.random.default_rng(13).standard_normal(in_shape)])
    config = layer.get_config()
    assert config["data_format"] == fmt and config["keepdims"] == keepdims
    assert cls.from_config(config).get_config() == config


def test_global_average_pooling1d_mask():
    """global_average_pooling_test.py: the mean over the unmasked steps."""
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [0, 1, 0]], dtype="int32")
    y = layers.GlobalAveragePooling1D()(x, mask=mask)
    want = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1)[:, None]
    assert_like_numpy(y, want.astype(np.float32))
    mask_cf = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], dtype="int32")
    y = layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)(x, mask=mask_cf)
    want = (x * mask_cf[:, None, :]).sum(axis=2, keepdims=True) / mask_cf.sum(axis=1)[:, None, None]
    assert_like_numpy(y, want.astype(np.float32))
    with pytest.raises(ValueError, match=r"mask of shape \(2, 4\) does not match"):
        layers.GlobalAveragePooling1D()(x, mask=mask_cf)


# ---------------------------------------------------------------- layers: config, shapes, errors

def test_layer_defaults_config_and_aliases():
    assert layers.MaxPooling1D().pool_size == (2,) and layers.MaxPooling1D().strides == (2,)
    assert layers.MaxPooling2D().pool_size == (2, 2) and layers.AveragePooling2D().strides == (2, 2)
    assert layers.MaxPooling2D(3, strides=1).strides == (1, 1)
    assert layers.MaxPooling2D(np.int64(3), strides=[np.int32(1), 2]).strides == (1, 2)
    for short, long in [("MaxPool1D", "MaxPooling1D"), ("MaxPool2D", "MaxPooling2D"),
                        ("AvgPool1D", "AveragePooling1D"), ("AvgPool2D", "AveragePooling2D"),
                        ("GlobalMaxPool1D", "GlobalMaxPooling1D"), ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
                        ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
                        ("GlobalAvgPool2D", "GlobalAveragePooling2D")]:
        assert getattr(layers, short) is getattr(layers, long) and layers.get(long) is getattr(layers, long)
        assert short in layers.__all__ and long in layers.__all__
    layer = layers.AveragePooling2D((3, 2), strides=(1, 2), padding="SAME", data_format="channels_first",
                                    name="pool", dtype="float64")
    config = layer.get_config()
    assert config == {"name": "pool", "trainable": True, "dtype": "float64", "pool_size": (3, 2),
                      "padding": "same", "strides": (1, 2), "data_format": "channels_first"}
    again = layers.AveragePooling2D.from_config(config)
    assert again.get_config() == config
    x = np.random.default_rng(14).standard_normal((2, 3, 5, 6))
    assert_like_numpy(again(x), np.asarray(layer(x)))
    assert again(x).dtype == np.float64


def test_layer_output_shapes_with_unknown_sizes():
    assert layers.MaxPooling2D(2, 1).compute_output_shape((None, 8, None, 3)) == (None, 7, None, 3)
    assert layers.MaxPooling2D(2, 2, "same").compute_output_shape((None, 8, None, 3)) == (None, 4, None, 3)
    assert layers.AveragePooling2D(2, 2, "same", "channels_first").compute_output_shape(
        (None, 3, 8, None)) == (None, 3, 4, None)
    assert layers.MaxPooling1D(3, 2, "same").compute_output_shape((None, None, None)) == (None, None, None)
    assert layers.AveragePooling1D(3, 2, data_format="channels_first").compute_output_shape(
        (4, None, 9)) == (4, None, 4)
    inp = layers.Input((None, None, 3))
    out = layers.MaxPooling2D(2)(inp)
    assert out.shape == (None, None, None, 3)
    model = pynn.Model(inp, layers.GlobalMaxPooling2D()(out))
    x = np.random.default_rng(15).standard_normal((2, 6, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(ops.max_pool(x, 2)).max(axis=(1, 2)))


def test_errors():
    x4 = np.zeros((2, 3, 3, 1), np.float32)
    # valid padding with a window larger than the input: Keras' "Computed output size would be zero or negative"
    for call in (lambda: ops.max_pool(x4, 4), lambda: ops.average_pool(x4, (2, 4), data_format="channels_last"),
                 lambda: layers.MaxPooling2D(4)(x4), lambda: layers.MaxPooling2D(4)(layers.Input((3, 3, 1))),
                 lambda: layers.AveragePooling1D(4).compute_output_shape((None, 3, 2))):
        with pytest.raises(ValueError, match=r"zero or negative.*\(2, 3, 3, 1\)|zero or negative.*\(None, 3"):
            call()
    # "same" never fails: a window larger than the input
    assert ops.max_pool(x4, 4, padding="same").shape == (2, 1, 1, 1)
    with pytest.raises(ValueError, match=r"max_pool: expected a 3-D .* or 4-D .* got shape \(3, 3\)"):
        ops.max_pool(np.zeros((3, 3)), 2)
    with pytest.raises(ValueError, match=r"average_pool: .*got shape \(1, 2, 2, 2, 1\)"):
        ops.average_pool(np.zeros((1, 2, 2, 2, 1)), 2)
    with pytest.raises(ValueError, match=r"max_pooling.*\(MaxPooling2D\): expected an input of rank 4.*\(2, 3, 3\)"):
        layers.MaxPooling2D()(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="rank 3"):
        layers.GlobalAveragePooling1D()(np.zeros((2, 3, 3, 1)))
    with pytest.raises(ValueError, match="rank 4"):
        layers.GlobalMaxPooling2D().compute_output_shape((None, 3, 3))
    for kwargs, pattern in [({"pool_size": 0}, "pool_size must be positive"),
                            ({"pool_size": (2, -1)}, "pool_size must be positive"),
                            ({"pool_size": (2, 2, 2)}, "pool_size must be an int or a tuple of 2 ints"),
                            ({"pool_size": True}, "pool_size must be an int"),
                            ({"pool_size": "2"}, "pool_size must be an int"),
                            ({"strides": 0}, "strides must be positive"),
                            ({"strides": (1,)}, "strides must be an int or a tuple of 2 ints"),
                            ({"padding": "full"}, "padding must be 'valid' or 'same'"),
                            ({"padding": 1}, "padding must be 'valid' or 'same'"),
                            ({"data_format": "NHWC"}, "data_format must be 'channels_last' or 'channels_first'")]:
        with pytest.raises(ValueError, match=pattern):
            layers.MaxPooling2D(**kwargs)
        with pytest.raises(ValueError, match=pattern):
            ops.average_pool(x4, **{"pool_size": 2, **kwargs})
    with pytest.raises(ValueError, match="data_format"):
        layers.GlobalAveragePooling2D(data_format="channels_middle")


def test_kernel_boundary_checks():
    """The private C++ entry points check what they are given (ValueError, never a crash)."""
    x = pynn.tensor(np.zeros((1, 4, 4, 2), np.float32))
    with pytest.raises(ValueError, match="pads .* smaller than the window"):
        _core._max_pool2d(x, (2, 2, 1, 1, 2, 0, 0, 0))
    with pytest.raises(ValueError, match="pads .* smaller than the window"):
        _core._avg_pool2d(x, (2, 2, 1, 1, 0, 0, 0, -1))
    with pytest.raises(ValueError, match="geometry must be 8 ints"):
        _core._avg_pool2d(x, (2, 2, 1, 1))
    with pytest.raises(ValueError, match="strides must be positive"):
        _core._max_pool2d(x, (2, 2, 0, 1, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="larger than the padded height"):
        _core._max_pool2d(x, (6, 2, 1, 1, 1, 0, 0, 0))
    with pytest.raises(ValueError, match=r"expected a 4-D \(N, H, W, C\) input"):
        _core._avg_pool2d(pynn.tensor(np.zeros((4, 4, 2), np.float32)), (2, 2, 1, 1, 0, 0, 0, 0))
    y, argmax = _core._max_pool2d(x, (2, 2, 2, 2, 0, 0, 0, 0))
    assert argmax.dtype == "int32" and argmax.shape == (1, 2, 2, 2)
    with pytest.raises(ValueError, match=r"gradient has shape \(1, 3, 2, 2\), expected \(1,2,2,2\)|gradient has shape"):
        _core._max_pool2d_backward(np.zeros((1, 3, 2, 2), np.float32), argmax, (1, 4, 4, 2), x._dtype_code,
                                   (2, 2, 2, 2, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="argmax must be a contiguous int32"):
        _core._max_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), y, (1, 4, 4, 2), x._dtype_code,
                                   (2, 2, 2, 2, 0, 0, 0, 0))
    with pytest.raises(TypeError, match="float32 or float64"):
        _core._avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), (1, 4, 4, 2), pynn.tensor(1)._dtype_code,
                                   (2, 2, 2, 2, 0, 0, 0, 0))


def test_backward_takes_any_gradient_strides_and_dtype():
    """dy may be any strided view (here reversed and transposed) and of another float dtype (cast)."""
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    geometry = (3, 2, 2, 1, 0, 1, 0, 1)  # "same" for 6 x 5 with pool (3, 2), strides (2, 1): out (3, 5)
    y, argmax = _core._max_pool2d(pynn.from_numpy(x), geometry)
    g = rng.standard_normal((3, 3, 5, 2))[::-1].transpose(3, 0, 2, 1)  # (2, 3, 5, 3), C not contiguous
    want_max = ref_pool(x, "max", (3, 2), (2, 1), "same", "channels_last", g)[1]
    want_avg = ref_pool(x, "avg", (3, 2), (2, 1), "same", "channels_last", g)[1]
    dx = _core._max_pool2d_backward(pynn.from_numpy(g), argmax, x.shape, pynn.from_numpy(x)._dtype_code, geometry)
    assert_like_numpy(dx, want_max.astype(np.float32))
    dx = _core._avg_pool2d_backward(pynn.from_numpy(g), x.shape, pynn.from_numpy(x)._dtype_code, geometry)
    assert_like_numpy(dx, want_avg.astype(np.float32))
    # the gather is the forward's own selection: x at the argmax is y
    assert_like_numpy(_core._max_pool2d_gather(pynn.from_numpy(x), argmax), np.asarray(y))


# ---------------------------------------------------------------- models

def test_model_with_pooling_trains_captured_as_eagerly():
    rng = np.random.default_rng(17)
    y = rng.integers(0, 4, 160)
    x = (rng.normal(0, 1, (4, 128))[y] + rng.normal(0, 1, (160, 128))).astype(np.float32)

    def make(**options):
        m = pynn.Sequential([
            layers.Input((128,)), layers.Reshape((8, 8, 2)),
            layers.MaxPooling2D((2, 2), padding="same"),  # (4, 4, 2)
            layers.AveragePooling2D((3, 3), strides=1, padding="same", data_format="channels_first"),  # (4, 4, 2)
            layers.Flatten(), layers.Dense(4, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    (ha, a), (hb, b) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=32, epochs=3, verbose=0).history)
    assert ha == hb
    assert ha["loss"][-1] < ha["loss"][0]  # it learns
    assert_same_state(a, b)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_one_d_model_captured_and_saved(tmp_path):
    rng = np.random.default_rng(18)
    y = rng.integers(0, 3, 96)
    x = (rng.normal(0, 1, (3, 48))[y] + rng.normal(0, 1, (96, 48))).astype(np.float32)

    def make(**options):
        m = pynn.Sequential([
            layers.Input((48,)), layers.Reshape((16, 3)),
            layers.MaxPool1D(3, 2, padding="same"),  # (8, 3)
            layers.AvgPool1D(2, data_format="channels_first"),  # (8, 1)
            layers.GlobalAvgPool1D(data_format="channels_first", keepdims=True), layers.Flatten(),
            layers.Dense(3, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **options)
        return m

    (ha, a), (hb, b) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=16, epochs=2, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)
    a.save(tmp_path / "pool.pynn")
    again = pynn.models.load_model(tmp_path / "pool.pynn")
    assert [type(layer).__name__ for layer in again.layers] == [type(layer).__name__ for layer in a.layers]
    np.testing.assert_array_equal(again.predict(x, verbose=0), a.predict(x, verbose=0))
