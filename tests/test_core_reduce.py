"""Reductions: sum mean max min argmax argmin against NumPy, accuracy, determinism, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pynn
from oracle import DTYPES, assert_like_numpy, isa, random_array, strided_views, threads  # noqa: F401


def np_reduce(name, a, axis, keepdims):
    with np.errstate(all="ignore"):
        r = getattr(np, name)(a, axis=axis, keepdims=keepdims)
    r = np.asarray(r)
    if name == "sum" and a.dtype == np.uint8:
        r = r.astype(np.int64)  # pynn: int64 (NumPy: uint64)
    if name == "mean" and a.dtype == np.float32:
        r = getattr(np, name)(a.astype(np.float64), axis=axis, keepdims=keepdims).astype(np.float32)
    return r


def axes_st(ndim):
    none = st.just(None)
    if ndim == 0:
        return none
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.one_of(none, one, many)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=6),
       dtype=st.sampled_from(DTYPES), name=st.sampled_from(["sum", "mean", "max", "min"]),
       keepdims=st.booleans(), data=st.data())
def test_reductions_like_numpy(shape, dtype, name, keepdims, data):
    a = random_array(np.random.default_rng(data.draw(st.integers(0, 999))), shape, dtype)
    axis = data.draw(axes_st(len(shape)))
    view = data.draw(st.sampled_from(strided_views(a)))
    expected = np_reduce(name, view, axis, keepdims)
    got = getattr(pynn, name)(pynn.from_numpy(view), axis=axis, keepdims=keepdims)
    assert_like_numpy(got, expected, rtol=1e-5 if dtype == "float32" else None)
    method = getattr(pynn.from_numpy(view), name)(axis=axis, keepdims=keepdims)
    assert_like_numpy(method, expected, rtol=1e-5 if dtype == "float32" else None)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6),
       dtype=st.sampled_from(DTYPES), name=st.sampled_from(["argmax", "argmin"]), data=st.data())
def test_arg_reductions_first_occurrence(shape, dtype, name, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    a = random_array(rng, shape, dtype)
    if a.dtype.kind == "f":
        a = np.round(a)  # many ties
        a[rng.random(shape) < 0.1] = np.nan
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    view = data.draw(st.sampled_from(strided_views(a)))
    assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(view), axis=axis), getattr(np, name)(view, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_large_reductions_threads_isas(axis, name, threads, isa):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((513, 300)).astype(np.float32)
    for view in (a, a.T, a[::-1, ::2]):
        assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(view), axis=axis),
                          np_reduce(name, view.astype(np.float64), axis, False).astype(np.float32), rtol=1e-5)


def test_argmax_large_rows(threads, isa):
    rng = np.random.default_rng(8)
    a = rng.integers(0, 100, (60000, 10)).astype(np.float32)
    assert_like_numpy(pynn.argmax(pynn.from_numpy(a), axis=1), a.argmax(axis=1))
    assert_like_numpy(pynn.argmin(pynn.from_numpy(a[:, ::-1]), axis=1), a[:, ::-1].argmin(axis=1))
    assert_like_numpy(pynn.argmax(pynn.from_numpy(a), axis=0), a.argmax(axis=0))


def test_float32_sum_accuracy_1e7():
    x = (np.random.default_rng(9).random(10**7) * 2 - 0.5).astype(np.float32)
    ref = x.astype(np.float64).sum()
    got = float(pynn.sum(pynn.from_numpy(x)))
    assert abs(got - ref) <= 1e-6 * abs(ref)


def test_deterministic_across_runs_and_threads():
    rng = np.random.default_rng(10)
    x = rng.standard_normal(10**6).astype(np.float32)
    m = rng.standard_normal((1000, 1000)).astype(np.float32)
    results = []
    old = pynn.get_num_threads()
    try:
        for n in (1, 2, 2, 1):
            pynn.set_num_threads(n)
            results.append((np.asarray(pynn.sum(pynn.from_numpy(x))).tobytes(),
                            np.asarray(pynn.sum(pynn.from_numpy(m), axis=0)).tobytes(),
                            np.asarray(pynn.mean(pynn.from_numpy(m), axis=1)).tobytes()))
    finally:
        pynn.set_num_threads(old)
    assert all(r == results[0] for r in results)


def test_keepdims_and_dtypes():
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    t = pynn.from_numpy(a)
    assert_like_numpy(t.sum(axis=(0, 2), keepdims=True), a.sum(axis=(0, 2), keepdims=True).astype(np.int64))
    assert_like_numpy(t.mean(), np.mean(a))
    assert_like_numpy(pynn.sum(pynn.tensor([True, True, False])), np.array(2))
    assert_like_numpy(pynn.sum(pynn.tensor(np.array([200, 100], np.uint8))), np.array(300))
    assert_like_numpy(pynn.argmax(t, axis=None), np.argmax(a))


def test_empty_reductions():
    e = pynn.zeros((0, 3))
    assert_like_numpy(e.sum(axis=0), np.zeros(3, np.float32))
    assert_like_numpy(e.max(axis=1), np.zeros((0,), np.float32))
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum which has no identity"):
        e.max(axis=0)
    with pytest.raises(ValueError, match="minimum"):
        pynn.min(pynn.zeros(0))
    with pytest.raises(ValueError, match="argmax"):
        pynn.argmax(pynn.zeros(0))


def test_bad_axes():
    t = pynn.zeros((2, 3))
    with pytest.raises(pynn.AxisError, match="axis 2 is out of bounds for array of dimension 2") as e:
        t.sum(axis=2)
    assert isinstance(e.value, ValueError) and isinstance(e.value, IndexError)
    with pytest.raises(IndexError):
        t.max(axis=-3)
    with pytest.raises(ValueError, match="duplicate"):
        t.sum(axis=(0, 0))
    with pytest.raises(ValueError, match="single integer"):
        t.argmax(axis=(0, 1))
