"""Regression tests for the op-level differences from NumPy 2 that the public-API fuzzer
(tests/fuzz) found: out= broadcasting and casting, Python ints outside a dtype's range in
comparisons, where and clip, view argument checks, keepdims/axis conversion, pickling 0-d
tensors, and error messages naming the op. NumPy is the oracle throughout."""
import pickle

import numpy as np
import pytest

import pynn

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def outcome(fn):
    """(shape, dtype, values) of fn(), or the exception type it raises."""
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e)
    a = np.asarray(r)
    return a.shape, str(a.dtype), a.tolist()


def same_exception_family(p, n):
    """pynn's exception is NumPy's type or a documented base of it."""
    assert isinstance(p, type) and isinstance(n, type), (p, n)
    if n is np.exceptions.AxisError:
        n = pynn.AxisError  # pynn's own, a ValueError and an IndexError like NumPy's
    assert issubclass(n, p) or issubclass(p, n), (p, n)


def assert_like_numpy(pfn, nfn):
    p, n = outcome(pfn), outcome(nfn)
    if isinstance(n, type) or isinstance(p, type):
        same_exception_family(p, n)
    else:
        assert p == n


# ---------------------------------------------------------------- out= larger than the inputs

@pytest.mark.parametrize("op", ["sqrt", "abs", "negative", "exp", "square", "tanh"])
def test_unary_out_broadcasts_inputs_to_out_shape(op):
    x = np.float64(2.0)
    n = getattr(np, op)(x, out=np.zeros((4, 2)))
    p = getattr(pynn, op)(pynn.tensor(np.array(x)), out=pynn.zeros((4, 2), "float64"))
    np.testing.assert_allclose(p.numpy(), n)


@pytest.mark.parametrize("op", ["minimum", "maximum", "add", "equal", "greater", "less_equal"])
def test_binary_out_broadcasts_inputs_to_out_shape(op):
    a, b = np.array([1.0, 5.0, -2.0], np.float32), np.float32(2.0)
    odt = bool if op in ("equal", "greater", "less_equal") else np.float32
    n = getattr(np, op)(a, b, out=np.zeros((2, 3), odt))
    out = pynn.zeros((2, 3), "bool" if odt is bool else "float32")
    p = getattr(pynn, op)(pynn.tensor(a), pynn.tensor(np.array(b)), out=out)
    assert p is out
    np.testing.assert_array_equal(p.numpy(), n)
    # Python scalars too (their broadcast shape is ()).
    n = getattr(np, op)(-2.5, -2.5, out=np.zeros((1, 3, 2), odt))
    p = getattr(pynn, op)(-2.5, -2.5, out=pynn.zeros((1, 3, 2), "bool" if odt is bool else "float32"))
    np.testing.assert_array_equal(p.numpy(), n)


def test_clip_out_broadcasts_inputs_to_out_shape():
    x = np.array([-1.0, 0.5, 3.0], np.float32)
    n = np.clip(x, 0, 1, out=np.zeros((2, 3), np.float32))
    p = pynn.clip(pynn.tensor(x), 0, 1, out=pynn.zeros((2, 3)))
    np.testing.assert_array_equal(p.numpy(), n)


@pytest.mark.parametrize("xshape, oshape", [((3,), (4, 2)), ((2, 3), (3,)), ((2, 3), (3, 3))])
def test_out_that_the_inputs_do_not_broadcast_to_still_raises(xshape, oshape):
    with pytest.raises(ValueError):
        np.sqrt(np.ones(xshape), out=np.zeros(oshape))
    with pytest.raises(ValueError, match="sqrt: non-broadcastable output operand"):
        pynn.sqrt(pynn.ones(xshape), out=pynn.zeros(oshape))
    with pytest.raises(ValueError, match="add: non-broadcastable output operand"):
        pynn.add(pynn.ones(xshape), 1.0, out=pynn.zeros(oshape))


# ---------------------------------------------------------------- out= casting (same_kind)

@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_out_casting_follows_numpy_same_kind(src, dst):
    x = np.array([1, 0, 2]).astype(src)
    expect_ok = np.can_cast(src, dst, "same_kind")
    out = pynn.zeros((3,), dst)
    if expect_ok:
        r = pynn.maximum(pynn.tensor(x), pynn.tensor(x), out=out)
        np.testing.assert_array_equal(r.numpy(), np.maximum(x, x, out=np.zeros(3, dst)))
    else:
        with pytest.raises(TypeError, match="maximum: cannot cast"):
            pynn.maximum(pynn.tensor(x), pynn.tensor(x), out=out)


def test_abs_int64_into_float32_out():
    a = np.array([-3, 4], np.int64)
    n = np.abs(a, out=np.zeros(2, np.float32))
    p = pynn.abs(pynn.tensor(a), out=pynn.zeros(2, "float32"))
    np.testing.assert_array_equal(p.numpy(), n)


# ---------------------------------------------------------------- Python ints beyond the dtype

CMP = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]


@pytest.mark.parametrize("op", CMP)
@pytest.mark.parametrize("dtype, value", [("uint8", -129), ("uint8", 256), ("uint8", -1), ("int32", 2**31),
                                          ("int32", -(2**40)), ("int64", 2**64), ("int64", -(2**63) - 1),
                                          ("uint8", 2**70)])
def test_comparison_with_out_of_range_python_int(op, dtype, value):
    a = np.array([0, 3, 200], dtype=dtype)
    f, g = getattr(np, op), getattr(pynn, op)
    for pfn, nfn in [(lambda: g(pynn.tensor(a), value), lambda: f(a, value)),
                     (lambda: g(value, pynn.tensor(a)), lambda: f(value, a)),
                     (lambda: g(pynn.tensor(a), value, out=pynn.zeros((2, 3), "bool")),
                      lambda: f(a, value, out=np.zeros((2, 3), bool)))]:
        n = nfn()
        p = pfn()
        assert p.dtype == pynn.bool_ and p.shape == n.shape
        np.testing.assert_array_equal(p.numpy(), n)


def test_comparison_operators_with_out_of_range_python_int():
    a = np.array([3, 250], np.uint8)
    t = pynn.tensor(a)
    np.testing.assert_array_equal((t > -129).numpy(), a > -129)
    np.testing.assert_array_equal((-129 < t).numpy(), -129 < a)
    np.testing.assert_array_equal((t == 256).numpy(), a == 256)
    np.testing.assert_array_equal((t != 256).numpy(), a != 256)


def test_comparison_out_of_range_where_numpy_raises():
    # Beside bools a Python int is int64 (it must fit), and arithmetic ops keep raising.
    with pytest.raises(OverflowError):
        np.greater(np.array([True]), 2**64)
    with pytest.raises(OverflowError, match="greater"):
        pynn.greater(pynn.tensor([True]), 2**64)
    with pytest.raises(OverflowError):
        np.maximum(np.array([3], np.uint8), 256)
    with pytest.raises(OverflowError, match="maximum: Python integer 256 out of bounds for uint8"):
        pynn.maximum(pynn.tensor(np.array([3], np.uint8)), 256)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float32"])
@pytest.mark.parametrize("value", [256, -1, 2**31, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
def test_where_with_python_int_outside_the_dtype(dtype, value):
    c = np.array([True, False])
    x = np.array([1, 0]).astype(dtype)
    assert_like_numpy(lambda: pynn.where(pynn.tensor(c), pynn.tensor(x), value), lambda: np.where(c, x, value))
    assert_like_numpy(lambda: pynn.where(pynn.tensor(c), value, pynn.tensor(x)), lambda: np.where(c, value, x))


@pytest.mark.parametrize("dtype, lo, hi", [
    ("uint8", 0, 256), ("uint8", -5, 100), ("uint8", -300, 300), ("uint8", None, 256), ("uint8", -1, None),
    ("uint8", 300, 400), ("uint8", -300, -200), ("uint8", 100, -1), ("uint8", None, -1), ("uint8", 256, None),
    ("int64", 0, 2**64), ("int64", -(2**64), 2**64), ("int64", 2**64, None), ("int64", None, -(2**64)),
    ("int32", -(2**40), 2**40), ("int32", 2**40, None),
])
def test_clip_with_python_int_bounds_outside_the_dtype(dtype, lo, hi):
    x = np.array([0, 3, 200]).astype(dtype)
    assert_like_numpy(lambda: pynn.clip(pynn.tensor(x), lo, hi), lambda: np.clip(x, lo, hi))


def test_full_with_int_past_int64():
    # NumPy gives uint64 without a dtype, which pynn lacks: a clear OverflowError naming full.
    assert np.full((2,), 2**63).dtype == np.uint64
    with pytest.raises(OverflowError, match=r"full: Python integer 9223372036854775808 out of bounds for int64"):
        pynn.full((3, 0), 2**63)
    with pytest.raises(OverflowError):
        np.full((2,), 2**63, "int64")
    with pytest.raises(OverflowError, match="full: "):
        pynn.full((2,), 2**63, "int64")
    np.testing.assert_array_equal(pynn.full((2,), 2**63, "float64").numpy(), np.full((2,), 2**63, "float64"))


def test_full_like_names_itself():
    with pytest.raises(OverflowError):
        np.full_like(np.zeros(2, np.uint8), -1)
    with pytest.raises(OverflowError, match="full_like: Python integer -1 out of bounds for uint8"):
        pynn.full_like(pynn.zeros(2, "uint8"), -1)
    with pytest.raises(TypeError, match="zeros: shape"):
        pynn.zeros("a")


# ---------------------------------------------------------------- view and shape arguments

def test_transpose_with_empty_axes_on_2d_raises():
    a = np.ones((2, 3), np.float32)
    t = pynn.tensor(a)
    with pytest.raises(ValueError, match="axes don't match"):
        np.transpose(a, ())
    with pytest.raises(ValueError, match="transpose: axes don't match"):
        pynn.transpose(t, ())
    with pytest.raises(ValueError, match="axes don't match"):
        a.transpose(())
    with pytest.raises(ValueError, match="transpose: axes don't match"):
        t.transpose(())
    # No argument, or None: reversed. A 0-d tensor takes ().
    assert t.transpose().shape == a.transpose().shape == (3, 2)
    assert t.transpose(None).shape == (3, 2)
    assert pynn.transpose(t).shape == (3, 2)
    assert pynn.ones(()).transpose(()).shape == np.ones(()).transpose(()).shape == ()


@pytest.mark.parametrize("shape, axis", [((1, 3), (0, 0)), ((1,), (0, -1)), ((1, 1), (1, -1, 0))])
def test_squeeze_duplicate_axis_raises(shape, axis):
    with pytest.raises(ValueError, match="duplicate value in 'axis'"):
        np.squeeze(np.ones(shape), axis)
    with pytest.raises(ValueError, match="squeeze: duplicate value in 'axis'"):
        pynn.squeeze(pynn.ones(shape), axis)


@pytest.mark.parametrize("shape", [True, False, (2, True)])
def test_bool_shapes_raise_type_error(shape):
    with pytest.raises(TypeError):
        np.zeros(shape)
    with pytest.raises(TypeError, match="zeros: shape"):
        pynn.zeros(shape)
    with pytest.raises(TypeError, match="full: shape"):
        pynn.full(shape, 2**31)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "argmax", "argmin"])
def test_bool_axis_raises_type_error(op):
    a = np.ones((1, 4, 4), np.float32)
    with pytest.raises(TypeError):
        getattr(np, op)(a, axis=True)
    with pytest.raises(TypeError, match=f"{op}: axis"):
        getattr(pynn, op)(pynn.tensor(a), axis=True)
    with pytest.raises(TypeError, match=f"{op}: axis"):
        getattr(pynn.tensor(a), op)(axis=True)


def test_expand_dims_still_takes_a_bool_like_numpy():
    assert pynn.expand_dims(pynn.ones((1, 3)), True).shape == np.expand_dims(np.ones((1, 3)), True).shape


class _EqRaises:
    def __eq__(self, other):
        raise RuntimeError("__eq__")

    __hash__ = object.__hash__


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("keepdims", [2, 0, 2**63, -(2**63) - 1, None, 1.5, "a", _EqRaises()])
def test_keepdims_conversion_like_numpy(op, keepdims):
    a = np.ones((5, 1), np.float32)
    n = outcome(lambda: getattr(np, op)(a, axis=0, keepdims=keepdims))
    p = outcome(lambda: getattr(pynn, op)(pynn.tensor(a), axis=0, keepdims=keepdims))
    if isinstance(n, type):
        same_exception_family(p, n)
        with pytest.raises(n, match=op):
            getattr(pynn, op)(pynn.tensor(a), axis=0, keepdims=keepdims)
    else:
        assert p == n


def test_set_cache_limit_argument_errors():
    limit = pynn._core.memory_stats()["cache_limit_bytes"]
    try:
        with pytest.raises(ValueError, match="set_cache_limit: nbytes 9223372036854775808 does not fit"):
            pynn._core.set_cache_limit(2**63)
        with pytest.raises(TypeError, match="set_cache_limit: nbytes must be an int, got float"):
            pynn._core.set_cache_limit(1.5)
        pynn._core.set_cache_limit(np.int64(1 << 20))
        assert pynn._core.memory_stats()["cache_limit_bytes"] == 1 << 20
    finally:
        pynn._core.set_cache_limit(limit)


# ---------------------------------------------------------------- pickling, conversion errors

@pytest.mark.parametrize("dtype", DTYPES)
def test_pickle_keeps_0d_shape(dtype):
    a = np.array(1).astype(dtype)
    t = pickle.loads(pickle.dumps(pynn.tensor(a)))
    assert t.shape == a.shape == ()
    assert t.dtype == pynn.tensor(a).dtype
    np.testing.assert_array_equal(t.numpy(), a)
    v = pickle.loads(pickle.dumps(pynn.Variable(pynn.tensor(a))))
    assert v.shape == ()


def test_pickle_of_a_strided_view_is_c_contiguous():
    t = pynn.tensor(np.arange(12.0).reshape(3, 4)).transpose()
    r = pickle.loads(pickle.dumps(t))
    assert r.shape == (4, 3) and r.is_contiguous()
    np.testing.assert_array_equal(r.numpy(), t.numpy())


def test_numpy_errors_with_extra_constructor_arguments_are_reraised_with_the_op():
    # NumPy raises _UFuncNoLoopError (whose constructor needs more arguments).
    with pytest.raises(TypeError):
        np.arange(np.int8(5), "3")
    with pytest.raises(TypeError, match="arange: ") as info:
        pynn.arange(np.int8(5), "3")
    assert info.value.__cause__ is not None


def _deep(n):
    x = 0
    for _ in range(n):
        x = [x]
    return x


def test_reflected_comparison_error_names_the_operator_written():
    t = pynn.tensor(np.zeros((1, 1), bool))
    with pytest.raises(ValueError, match=r"<=.*at most 16 dimensions"):
        _deep(40) <= t  # noqa: B015 - Python calls t.__ge__
    with pytest.raises(ValueError, match=r"greater_equal.*at most 16 dimensions"):
        pynn.greater_equal(t, _deep(40))


def test_clip_out_of_range_int_beside_bools_raises_like_numpy():
    a = np.array([[True, False]])
    with pytest.raises(OverflowError):
        np.clip(a, a, 2**64)
    with pytest.raises(OverflowError, match="clip: "):
        pynn.clip(pynn.tensor(a), pynn.tensor(a), 2**64)


def test_weak_int_takes_float64_beside_a_weak_float():
    # NumPy's result_type over all operands: the float bound makes the int bound float64.
    u = np.arange(4, dtype=np.uint8)
    for lo, hi in [(-float("inf"), -1), (1.5, 300), (-1, 2.5)]:
        n = np.clip(u, lo, hi)
        p = pynn.clip(pynn.tensor(u), lo, hi)
        assert p.dtype == pynn.float64 and n.dtype == np.float64
        np.testing.assert_array_equal(p.numpy(), n)


def test_clip_bool_without_bounds_raises_like_numpy():
    b = np.array([True, False])
    with pytest.raises(TypeError):
        np.clip(b, None, None)
    with pytest.raises(TypeError, match="clip: "):
        pynn.clip(pynn.tensor(b), None, None)
    np.testing.assert_array_equal(pynn.clip(pynn.tensor(b), False, True).numpy(), np.clip(b, False, True))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("axis", [0, -1, (0,), 1, (0, -1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_axis_on_0d_like_numpy(op, axis, keepdims):
    a = np.array(2.5, np.float32)
    if op.startswith("arg") and isinstance(axis, tuple):
        return  # pynn's argmax takes one int axis; NumPy's TypeError for a tuple is covered elsewhere
    assert_like_numpy(lambda: getattr(pynn, op)(pynn.tensor(a), axis=axis, keepdims=keepdims),
                      lambda: getattr(np, op)(a, axis=axis, keepdims=keepdims))
    assert_like_numpy(lambda: getattr(pynn.tensor(a), op)(axis=axis, keepdims=keepdims),
                      lambda: getattr(a, op)(axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("axis", [0, -1, (0,), 1, (0, -1)])
def test_squeeze_axis_on_0d_like_numpy(axis):
    a = np.array(2.5, np.float32)
    assert_like_numpy(lambda: pynn.squeeze(pynn.tensor(a), axis), lambda: np.squeeze(a, axis))



def test_float_to_int_fill_errors_name_the_op():
    # pynn goes through int(value) here (documented: no silent garbage, where NumPy warns).
    with pytest.raises(OverflowError, match="full: cannot convert float infinity to integer"):
        pynn.full((5, 1, 2), -float("inf"), dtype="int64")
    t = pynn.zeros((2, 3), "int64")
    with pytest.raises(ValueError, match="setitem: cannot convert float NaN to integer"):
        t[:, ] = float("nan")


class _HugeLen:
    def __len__(self):
        return 2**62

    def __getitem__(self, i):
        return 0


def test_memory_error_of_a_conversion_names_the_op():
    with pytest.raises(MemoryError):
        np.asarray(_HugeLen())
    with pytest.raises(MemoryError, match="tensor: "):
        pynn.tensor(_HugeLen())
    with pytest.raises(MemoryError, match="zeros_like: "):
        pynn.zeros_like(_HugeLen())


def test_memory_error_of_a_shape_argument_names_the_op():
    t = pynn.ones((2, 3))
    with pytest.raises(MemoryError, match="broadcast_to: shape"):
        pynn.broadcast_to(t, _HugeLen())


def test_arange_with_integer_bounds_past_int64_is_an_overflow_error():
    # NumPy gives an empty int64 range for np.arange(2**63, dtype=np.int64): silently wrong.
    for args in ((2**63,), (0, 2**64), (0, 10, 2**63), (-2**63 - 1, 0)):
        with pytest.raises(OverflowError, match="arange"):
            pynn.arange(*args)
    np.testing.assert_array_equal(np.asarray(pynn.arange(2**63 - 3, 2**63 - 1)), [2**63 - 3, 2**63 - 2])
    assert pynn.arange(0.0, 2.0**63, 2.0**62).shape == (2,)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: pynn.set_cpu_isa(3), TypeError, "set_cpu_isa"),
    (lambda: pynn.clip(pynn.arange(4), None, [0, 1]), ValueError, "clip"),
    (lambda: pynn.clip(pynn.arange(4), [0, 1], None), ValueError, "clip"),
    (lambda: pynn.not_equal(pynn.zeros((5, 2), "uint8"), -1, out=pynn.zeros((2, 3), "int64")), ValueError,
     "not_equal"),
    (lambda: pynn.arange(-3, 1, 0), ZeroDivisionError, "arange"),
    (lambda: pynn.arange(None), TypeError, "arange"),
    (lambda: pynn.tensor(2**64, dtype="int64"), OverflowError, "tensor"),
    (lambda: pynn.tensor([-1], dtype="uint8"), OverflowError, "tensor"),
    (lambda: pynn.metrics.AUC(num_thresholds=2**31), ValueError, "AUC: num_thresholds"),
    (lambda: pynn.metrics.AUC(num_thresholds=1.5), TypeError, "AUC: num_thresholds"),
])
def test_errors_found_by_the_100k_fuzz_run_name_the_call(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_index_takes_only_0d_integer_tensors_as_numpy():
    import operator

    assert operator.index(pynn.tensor(3)) == 3 == operator.index(np.array(3))
    for t, a in ((pynn.tensor(True), np.array(True)), (pynn.tensor([2]), np.array([2])),
                 (pynn.tensor(2.0), np.array(2.0))):
        with pytest.raises(TypeError):
            operator.index(a)
        with pytest.raises(TypeError, match="__index__"):
            operator.index(t)


def test_full_keeps_a_numpy_scalar_dtype_and_arange_takes_step_none():
    assert pynn.full((5,), np.int32(7)).dtype == np.full((5,), np.int32(7)).dtype == pynn.int32
    assert pynn.full((2,), np.float64(0.5)).dtype == pynn.float64
    r = pynn.arange(1, 4, None)
    np.testing.assert_array_equal(np.asarray(r), np.arange(1, 4, None))
    assert r.dtype == pynn.int64
