"""Element-wise ops: NumPy broadcasting and type promotion, strided inputs,
scalars, out=, in-place ops, numerics, errors; on 1 and 2 threads and every ISA."""

import concurrent.futures as cf

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pynn
from oracle import (  # noqa: F401  (fixtures)
    DTYPES, FLOATS, as_pynn_both_ways, assert_like_numpy, isa, random_array, shapes_st,
    strided_views, threads,
)

ARITH = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"]
COMPARE = ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]
UNARY_FLOAT = ["exp", "log", "sqrt", "tanh", "sigmoid"]


def np_binary(name, a, b):
    """NumPy's answer, with pynn's documented differences (no int8 result)."""
    with np.errstate(all="ignore"):
        if name == "power" and a.dtype == np.bool_ and b.dtype == np.bool_:
            return np.power(a.astype(np.uint8), b.astype(np.uint8))
        return getattr(np, name)(a, b)


def np_unary(name, x):
    with np.errstate(all="ignore"):
        if name in UNARY_FLOAT:
            if x.dtype in (np.bool_, np.uint8):  # NumPy: float16
                x = x.astype(np.float32)
            if name == "sigmoid":
                return 1.0 / (1.0 + np.exp(-x.astype(np.result_type(x, np.float32))))
            return getattr(np, name)(x)
        if name == "relu":
            return np.maximum(x, np.zeros((), x.dtype))
        if name == "square" and x.dtype == np.bool_:
            return np.square(x.astype(np.uint8))
        return getattr(np, name)(x)


def valid_binary(name, da, db):
    if name == "subtract" and da == "bool" and db == "bool":
        return False
    return True


def operands(rng, name, shape, dtype):
    a = random_array(rng, shape, dtype)
    if name == "power" and np.dtype(dtype).kind in "iu":
        a = np.abs(a) % 4  # no negative integer exponents, no overflow noise
    if name == "power" and np.dtype(dtype).kind == "f":
        a = np.abs(a)
    return np.asarray(a)  # 0-d arithmetic gives NumPy scalars


@pytest.mark.parametrize("name", ARITH + COMPARE)
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_binary_promotion_all_pairs(name, da, db):
    rng = np.random.default_rng(1)
    if not valid_binary(name, da, db):
        with pytest.raises(TypeError, match="boolean subtract"):
            pynn.subtract(pynn.tensor([True]), pynn.tensor([False]))
        return
    a = operands(rng, name, (3, 4), da)
    b = operands(rng, name, (4,), db)
    assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(a), pynn.from_numpy(b)), np_binary(name, a, b))


@given(shapes=shapes_st(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(ARITH + COMPARE),
       data=st.data())
def test_binary_broadcasting_and_views(shapes, dtype, name, data):
    if not valid_binary(name, dtype, dtype):
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a = operands(rng, name, shapes.input_shapes[0], dtype)
    b = operands(rng, name, shapes.input_shapes[1], dtype)
    expected = np_binary(name, a, b)
    va = data.draw(st.sampled_from(strided_views(a)))
    vb = data.draw(st.sampled_from(strided_views(b)))
    for ta in as_pynn_both_ways(va):
        for tb in as_pynn_both_ways(vb):
            assert_like_numpy(getattr(pynn, name)(ta, tb), expected)


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "divide", "less"])
def test_large_binary_threads_and_isas(name, threads, isa):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((300, 401)).astype(np.float32)
    b = rng.standard_normal((401,)).astype(np.float32)
    assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(a), pynn.from_numpy(b)), np_binary(name, a, b))
    at = a.T  # non-contiguous, large
    assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(at), pynn.from_numpy(at[::-1])),
                      np_binary(name, at, at[::-1]))


@pytest.mark.parametrize("name", ["negative", "abs", "exp", "log", "sqrt", "square", "tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_dtypes(name, dtype):
    if name == "negative" and dtype == "bool":
        with pytest.raises(TypeError, match="negative"):
            pynn.negative(pynn.tensor([True]))
        return
    x = random_array(np.random.default_rng(3), (5, 6), dtype)
    if name in ("log", "sqrt") and x.dtype.kind in "fi":
        x = (np.abs(x) + 1).astype(x.dtype)
    tol = {"rtol": 3e-6} if name in UNARY_FLOAT else {}
    assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(x[:, ::-2])), np_unary(name, x[:, ::-2]), **tol)


@pytest.mark.parametrize("name", UNARY_FLOAT + ["relu", "abs", "square"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_large_threads_isas(name, dtype, threads, isa):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(100_003) * 20).astype(dtype)
    if name in ("log", "sqrt"):
        x = np.abs(x) + np.asarray(1e-3, dtype)
    ref = np_unary(name, x.astype(np.float64)).astype(dtype)
    # float32 transcendental: a few ulp of the float64 reference (pynn flushes subnormals).
    rtol = 3e-6 if dtype == "float32" else 1e-14
    assert_like_numpy(getattr(pynn, name)(pynn.from_numpy(x)), ref, rtol=rtol)


def test_transcendental_extremes(isa):
    x = np.array([-1000, -100, -88, -20, -1e-7, -0.0, 0.0, 1e-30, 1e-7, 0.3, 20, 88, 100, 1000,
                  np.inf, -np.inf, np.nan], dtype=np.float32)
    t = pynn.from_numpy(x)
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)
        assert_like_numpy(pynn.exp(t), np.exp(x64).astype(np.float32), rtol=3e-6)
        assert_like_numpy(pynn.tanh(t), np.tanh(x64).astype(np.float32), rtol=3e-6)
        assert_like_numpy(pynn.sigmoid(t), (1 / (1 + np.exp(-x64))).astype(np.float32), rtol=3e-6)
        assert_like_numpy(pynn.log(t), np.log(x64).astype(np.float32), rtol=3e-6)
    s = np.asarray(pynn.sigmoid(t))
    assert s[0] == 0.0 and s[13] == 1.0 and not np.isnan(s[:16]).any()
    assert np.asarray(pynn.tanh(t))[0] == -1.0 and np.asarray(pynn.tanh(t))[13] == 1.0
    assert np.isinf(np.asarray(pynn.exp(t))[13])


def test_nan_propagates_in_maximum_minimum_relu():
    a = np.array([1.0, np.nan, 3.0, np.nan], dtype=np.float32)
    b = np.array([np.nan, 2.0, 1.0, np.nan], dtype=np.float32)
    ta, tb = pynn.from_numpy(a), pynn.from_numpy(b)
    assert_like_numpy(pynn.maximum(ta, tb), np.maximum(a, b))
    assert_like_numpy(pynn.minimum(ta, tb), np.minimum(a, b))
    assert_like_numpy(pynn.relu(ta), np.maximum(a, np.float32(0)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", [True, 3, -2, 2.5])
def test_python_scalars_are_weak(dtype, scalar):
    a = random_array(np.random.default_rng(5), (4,), dtype)
    t = pynn.from_numpy(a)
    for name in ("add", "multiply", "maximum", "greater"):
        # An out-of-range int raises in arithmetic; comparisons answer by its sign (NumPy 2).
        if (dtype == "uint8" and isinstance(scalar, int) and scalar < 0 and not isinstance(scalar, bool)
                and name != "greater"):
            with pytest.raises(OverflowError):
                getattr(pynn, name)(t, scalar)
            continue
        with np.errstate(all="ignore"):
            expected = getattr(np, name)(a, scalar)
            expected_r = getattr(np, name)(scalar, a)
        assert_like_numpy(getattr(pynn, name)(t, scalar), expected)
        assert_like_numpy(getattr(pynn, name)(scalar, t), expected_r)


def test_scalar_promotion_examples():
    assert (pynn.ones(2) + 2.5).dtype == pynn.float32
    assert (pynn.ones(2, dtype=pynn.int32) + 3).dtype == pynn.int32
    assert (pynn.ones(2, dtype=pynn.int32) + 3.5).dtype == pynn.float64
    assert (pynn.ones(2, dtype=pynn.bool) + 1).dtype == pynn.int64
    with pytest.raises(OverflowError, match="300 out of bounds for uint8"):
        pynn.ones(2, dtype=pynn.uint8) + 300
    assert (pynn.ones(2) + np.float64(1.0)).dtype == pynn.float64  # NumPy scalars are strong
    assert_like_numpy(pynn.add(1, 2.5), np.add(1, 2.5))


def test_operators_and_reflected():
    a = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    t = pynn.from_numpy(a)
    assert_like_numpy(t + 1, a + 1)
    assert_like_numpy(2 - t, 2 - a)
    assert_like_numpy(3 / t, 3 / a)
    assert_like_numpy(t ** 2, a ** 2)
    assert_like_numpy(2 ** t, 2 ** a)
    assert_like_numpy(-t, -a)
    assert_like_numpy(abs(-t), a)
    assert_like_numpy(t >= 3, a >= 3)
    assert_like_numpy(t == pynn.tensor([1.0, 0.0, 3.0]), a == np.array([1, 0, 3], np.float32))
    assert_like_numpy(a * t, a * a)  # a NumPy array on the left defers to pynn


def test_out_argument():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    t = pynn.from_numpy(a)
    out = pynn.empty((3, 4), dtype=pynn.float64)
    r = pynn.add(t, 0.5, out=out)
    assert r is out
    assert_like_numpy(out, a + 0.5)
    same = pynn.empty((3, 4), dtype=pynn.int32)
    assert pynn.multiply(t, t, out=same) is same
    assert_like_numpy(same, a * a)
    with pytest.raises(ValueError, match=r"output operand with shape \(2,2\).*\(3,4\)"):
        pynn.add(t, t, out=pynn.empty((2, 2), dtype=pynn.int32))
    with pytest.raises(TypeError, match="same_kind"):
        pynn.add(t, 0.5, out=pynn.empty((3, 4), dtype=pynn.int32))
    assert_like_numpy(pynn.exp(pynn.ones(3), out=pynn.zeros(3)), np.exp(np.ones(3, np.float32)))


def test_inplace_operators():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = pynn.tensor(a)
    ref = a.copy()
    t += pynn.tensor(np.arange(4, dtype=np.float32))
    ref += np.arange(4, dtype=np.float32)
    t *= 2
    ref *= 2
    t -= 1.5
    ref -= 1.5
    t /= 4
    ref /= 4
    assert_like_numpy(t, ref)
    i = pynn.zeros(3, dtype=pynn.int32)
    with pytest.raises(TypeError, match="same_kind"):
        i += 1.5


def test_overlapping_inplace_matches_numpy():
    a = np.arange(10.0)
    t = pynn.tensor(a)
    t[1:] += t[:-1]
    a[1:] += a[:-1]
    assert_like_numpy(t, a)
    b = np.arange(10.0)
    u = pynn.tensor(b)
    pynn.add(u[:-2], u[2:], out=u[2:])
    np.add(b[:-2], b[2:], out=b[2:])
    assert_like_numpy(u, b)


def test_where_and_clip():
    rng = np.random.default_rng(6)
    c = rng.integers(0, 3, (3, 4))
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = rng.standard_normal((4,))
    assert_like_numpy(pynn.where(c, x, y), np.where(c, x, y))
    assert_like_numpy(pynn.where(c > 0, x, 0.0), np.where(c > 0, x, 0.0))
    assert_like_numpy(pynn.where(c > 0, 1, 2.5), np.where(c > 0, 1, 2.5))
    assert_like_numpy(pynn.clip(x, -0.5, 0.5), np.clip(x, -0.5, 0.5))
    assert_like_numpy(pynn.clip(x, None, 0.1), np.clip(x, None, 0.1))
    assert_like_numpy(pynn.clip(np.arange(5), 1.5, 3), np.clip(np.arange(5), 1.5, 3))
    big = rng.standard_normal(100_000).astype(np.float32)
    assert_like_numpy(pynn.clip(pynn.from_numpy(big), -1, 1), np.clip(big, -1, 1))


def test_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: operands could not be broadcast together with shapes \(2,3\) \(4,\)"):
        pynn.add(pynn.zeros((2, 3)), pynn.zeros(4))
    with pytest.raises(ValueError, match="where"):
        pynn.where(pynn.zeros(2), pynn.zeros(3), pynn.zeros(4))
    with pytest.raises(TypeError, match="subtract"):
        pynn.tensor([True]) - pynn.tensor([False])
    with pytest.raises(ValueError, match="negative integer powers"):
        pynn.tensor([1, 2]) ** pynn.tensor([1, -1])
    with pytest.raises(TypeError):
        pynn.add(pynn.zeros(2), "text")


def test_concurrent_python_threads():
    def work(seed):
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((257, 300)).astype(np.float32)
        b = rng.standard_normal(300).astype(np.float32)
        for _ in range(20):
            assert_like_numpy(pynn.sigmoid(pynn.from_numpy(a) * pynn.from_numpy(b) + 1.0),
                              (1 / (1 + np.exp(-(a.astype(np.float64) * b + 1.0)))).astype(np.float32),
                              rtol=3e-6)
        return True

    with cf.ThreadPoolExecutor(4) as ex:
        assert all(ex.map(work, range(8)))
