"""No input crashes the process: sizes past int64, huge slices, float-to-int
stores, odd shape arguments, thread counts and Ctrl-C all end in a Python
exception (NumPy 2's type, and its value where it has one)."""

import os
import textwrap

import numpy as np
import pytest

import pynn
from pynn import _core
from oracle import python_child

INT64_MIN = -(2**63)


# ---------------------------------------------------------------- sizes (Note [Size limits])

@pytest.mark.parametrize("shape", [(2**31, 2**31), (3, 2**62), (3, 2**61), (2**63 - 1,), (0, 2**62),
                                   (2**62, 0, 4)])
def test_too_big_shapes_raise_like_numpy(shape):
    with pytest.raises(ValueError, match="array is too big"):
        np.zeros(shape)
    with pytest.raises(ValueError, match="array is too big"):
        pynn.zeros(shape)
    with pytest.raises(ValueError, match="array is too big"):
        pynn.empty(shape, "int32")


def test_zero_size_with_a_huge_dim_is_refused_before_reducing():
    # Before: SIGSEGV in the reduction.
    with pytest.raises(ValueError, match="array is too big"):
        pynn.zeros((0, 2**62)).sum(axis=0)


def test_negative_dims():
    for make in (lambda s: pynn.zeros(s), lambda s: pynn.empty(s), lambda s: pynn.full(s, 1.0)):
        with pytest.raises(ValueError, match="negative dimensions are not allowed"):
            make((2, -3))
    with pytest.raises(ValueError, match="negative dimensions are not allowed"):
        pynn.broadcast_to(pynn.zeros(1), (-1,))


def test_views_past_the_byte_limit_raise():
    # NumPy refuses a view whose nbytes does not fit in int64 too.
    with pytest.raises(ValueError, match="array is too big"):
        np.broadcast_to(np.zeros(1), (2**62,))
    with pytest.raises(ValueError, match="array is too big"):
        pynn.broadcast_to(pynn.zeros(1), (2**62,))  # before: a view, and SIGSEGV on `+ 1`
    with pytest.raises(ValueError, match="array is too big"):
        pynn.broadcast_to(pynn.zeros(1, "float64"), (2**62,))  # before: SIGFPE in clip
    x = pynn.broadcast_to(pynn.zeros((1, 1), "uint8"), (2**62, 1))
    y = pynn.broadcast_to(pynn.zeros((1, 1), "uint8"), (1, 2**62))
    with pytest.raises(ValueError, match="array is too big"):
        x + y


def test_huge_stride_zero_views_are_legal_and_materialising_them_is_a_memory_error():
    v = pynn.broadcast_to(pynn.zeros(1, "uint8"), (2**62,))
    n = np.broadcast_to(np.zeros(1, "uint8"), (2**62,))
    assert v.shape == n.shape and v.size == n.size == 2**62 and v.strides == n.strides == (0,)
    with pytest.raises(MemoryError, match="Unable to allocate"):
        v + 1
    f = pynn.broadcast_to(pynn.zeros(1, "float64"), (2**59,))
    assert f.size == 2**59
    with pytest.raises(MemoryError, match="Unable to allocate"):
        pynn.clip(f, 0.0, 1.0)
    with pytest.raises(MemoryError):
        np.broadcast_to(np.zeros(1), (2**59,)) + 1
    with pytest.raises(MemoryError, match="Unable to allocate"):
        v.copy()
    with pytest.raises(MemoryError, match="Unable to allocate"):
        pynn.zeros(2**62, "uint8")
    with pytest.raises(MemoryError):
        np.empty(2**63 - 1, "uint8")
    with pytest.raises(MemoryError, match="Unable to allocate 8.00 EiB"):
        pynn.empty(2**63 - 1, "uint8")


def test_reshape_to_a_huge_shape():
    with pytest.raises(ValueError, match="cannot reshape"):
        np.arange(3).reshape(2**62, 4)
    for shape in [(2**62, 4), (2**62, -1), (-1, 2**62, 4), (2**62, 2**62)]:
        with pytest.raises(ValueError, match="cannot reshape"):
            pynn.arange(3).reshape(shape)
    with pytest.raises(ValueError, match="cannot reshape"):
        pynn.zeros(0).reshape(-1, 2**62, 4)


def test_matmul_of_huge_views_reports_the_output_size():
    a = np.broadcast_to(np.zeros((1, 1)), (2**31, 1))
    b = np.broadcast_to(np.zeros((1, 1)), (1, 2**31))
    with pytest.raises(ValueError, match="array is too big"):
        np.matmul(a, b)
    pa = pynn.broadcast_to(pynn.zeros((1, 1), "float64"), (2**31, 1))
    pb = pynn.broadcast_to(pynn.zeros((1, 1), "float64"), (1, 2**31))
    with pytest.raises(ValueError, match="array is too big"):
        pynn.matmul(pa, pb)
    with pytest.raises(ValueError, match="array is too big"):
        pynn.tensordot(pa, pb, 0)


def test_reduction_over_a_huge_view_allocates_bounded_partials():
    # Before: one partial tensor per 32K-element block (8192 of them here,
    # 512 KiB of 64-byte blocks; 33.5M tensors for 2**40 elements). Now one
    # allocation of 8192 accumulators.
    x = pynn.broadcast_to(pynn.ones(1, "float64"), (2**28,))
    _core.reset_peak_memory()
    before = pynn.memory_stats()["allocated_bytes"]
    assert float(pynn.sum(x)) == 2.0**28
    assert pynn.memory_stats()["peak_bytes"] - before < 256 * 1024
    assert int(pynn.argmax(pynn.broadcast_to(pynn.ones(1, "float32"), (2**27,)))) == 0


# ---------------------------------------------------------------- threads

def test_set_num_threads_is_capped_with_a_warning():
    old = pynn.get_num_threads()
    cap = 4 * os.cpu_count()
    try:
        with pytest.warns(RuntimeWarning, match="per CPU"):
            pynn.set_num_threads(1000 * os.cpu_count())
        assert pynn.get_num_threads() == cap
        with pytest.warns(RuntimeWarning, match="per CPU"):
            pynn.set_num_threads(2**70)
        assert pynn.get_num_threads() == cap
        assert float(pynn.sum(pynn.ones(10**6))) == 10**6  # the capped team runs
        pynn.set_num_threads(cap)  # no warning at the cap itself
        for bad in (0, -5, -(2**70)):
            with pytest.raises(ValueError, match="n must be >= 1"):
                pynn.set_num_threads(bad)
        with pytest.raises(TypeError):
            pynn.set_num_threads(2.0)
    finally:
        pynn.set_num_threads(old)


# ---------------------------------------------------------------- slices

EXTREME_SLICES = [
    slice(None, None, 2**63 - 1), slice(-(2**63), 2**63), slice(None, None, -(2**63)),
    slice(None, None, -(2**63) + 1), slice(2**63 - 2, None, 2**63 - 1), slice(None, None, 2**64),
    slice(None, None, -(2**64)), slice(2**64, None), slice(None, -(2**64)), slice(-(2**64), None, -1),
    slice(5, None, 2**62), slice(-1, None, -(2**62)), slice(2**63 - 1, -(2**63), -3),
    slice(-(2**63), 2**63 - 1, 4), slice(3, 3, 2**63 - 1),
]


@pytest.mark.parametrize("s", EXTREME_SLICES, ids=str)
def test_extreme_slices_match_numpy(s):
    n = np.arange(10)
    t = pynn.arange(10)
    assert t[s].shape == n[s].shape
    np.testing.assert_array_equal(t[s].numpy(), n[s])
    n[s] = -1
    t[s] = -1
    np.testing.assert_array_equal(t.numpy(), n)
    # 2-D, with the extreme slice on the inner axis.
    n2 = np.arange(30).reshape(3, 10)
    t2 = pynn.arange(30).reshape(3, 10)
    np.testing.assert_array_equal(t2[:, s].numpy(), n2[:, s])


# ---------------------------------------------------------------- float -> int stores

@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("value,exc", [(float("nan"), ValueError), (float("inf"), OverflowError),
                                       (float("-inf"), OverflowError), (1e300, OverflowError)])
def test_nonfinite_or_huge_float_into_integers_raises_like_numpy(dtype, value, exc):
    with pytest.raises(exc):
        np.zeros(2, dtype)[0] = value
    t = pynn.zeros(2, dtype)
    with pytest.raises(exc):
        t[0] = value  # before: INT64_MIN stored
    with pytest.raises(exc):
        t[:] = value
    with pytest.raises(exc):
        pynn.full(2, value, dtype)
    with pytest.raises(exc):
        pynn.tensor([value], dtype=dtype)
    np.testing.assert_array_equal(t.numpy(), [0, 0])


@pytest.mark.parametrize("dtype,value", [("int32", 1e10), ("uint8", 300.0), ("uint8", -1.0)])
def test_float_out_of_range_of_a_small_integer_raises_like_numpy(dtype, value):
    with pytest.raises(OverflowError, match="out of bounds"):
        np.zeros(2, dtype)[0] = value
    with pytest.raises(OverflowError, match="out of bounds"):
        pynn.zeros(2, dtype)[0] = value


def test_python_int_fill_must_fit_like_numpy():
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        np.full(2, 300, dtype="uint8")
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        pynn.full(2, 300, "uint8")  # before: 44


def test_finite_floats_into_integers_truncate_like_numpy():
    for dtype in ("int64", "int32", "uint8"):
        n = np.zeros(3, dtype)
        t = pynn.zeros(3, dtype)
        for i, v in enumerate([2.7, -0.5, 255.9 if dtype == "uint8" else -2.7]):
            n[i] = v
            t[i] = v
        np.testing.assert_array_equal(t.numpy(), n)
    t = pynn.zeros(2, "bool")
    t[0] = float("nan")
    assert t.numpy().tolist() == [True, False]


def test_array_cast_of_nonfinite_floats_gives_numpy_values():
    a = np.array([np.nan, np.inf, -np.inf, 1e300, -3e9, 300.0, -1.0, 2.7, -2.7])
    for dtype in ("int64", "int32", "uint8"):
        with np.errstate(invalid="ignore", over="ignore"):
            want = a.astype(dtype)
        np.testing.assert_array_equal(pynn.tensor(a).astype(dtype).numpy(), want)
        with np.errstate(over="ignore"):
            a32 = a.astype("float32")
        np.testing.assert_array_equal(pynn.tensor(a32).astype(dtype).numpy(), want)


def test_exp_of_nan():
    # The int conversion inside exp was undefined for NaN (a UBSan report).
    for dtype in ("float32", "float64"):
        r = pynn.exp(pynn.tensor([np.nan, 1.0, -np.inf, np.inf] * 20, dtype=dtype)).numpy()
        want = np.exp(np.array([np.nan, 1.0, -np.inf, np.inf] * 20, dtype=dtype))
        np.testing.assert_allclose(r, want, rtol=1e-6)


# ---------------------------------------------------------------- integer means

def test_integer_mean_accumulates_in_float64():
    for dtype in ("int64", "int32", "uint8", "bool"):
        vals = {"int64": [2**62] * 3 + [2**62 - 1], "int32": [2**30] * 5,
                "uint8": [255] * 7, "bool": [True, False, True]}[dtype]
        n = np.array(vals, dtype)
        t = pynn.tensor(n)
        r = pynn.mean(t)
        assert r.dtype == pynn.float64
        assert float(r) == np.mean(n)
        n2 = np.stack([n, n[::-1]])
        np.testing.assert_array_equal(pynn.mean(pynn.tensor(n2), axis=1).numpy(), np.mean(n2, axis=1))
        np.testing.assert_array_equal(pynn.mean(pynn.tensor(n2), axis=0).numpy(), np.mean(n2, axis=0))


# ---------------------------------------------------------------- Python ints past int64

def test_python_ints_past_int64():
    t = pynn.arange(3)
    for i in (2**64, 2**63, -(2**64), -(2**63) - 1):
        with pytest.raises(IndexError, match="out of bounds"):
            t[i]
        with pytest.raises(IndexError, match="out of bounds"):
            t[i] = 0
    with pytest.raises(IndexError, match="out of bounds"):
        t[-(2**63)]
    for shape in (2**64, (2, 2**63), -(2**64)):
        with pytest.raises(ValueError, match="[Mm]aximum allowed dimension exceeded"):
            np.zeros(shape)
        with pytest.raises(ValueError, match="maximum allowed dimension exceeded"):
            pynn.zeros(shape)
    with pytest.raises(ValueError, match="reshape: shape: maximum allowed dimension"):
        t.reshape(2**64)
    with pytest.raises(ValueError, match="maximum allowed dimension"):
        pynn.broadcast_to(t, (2**64,))
    # An axis past int64: OverflowError, as NumPy ("Python int too large to convert to C long").
    for axis in (2**64, -(2**64), (0, 2**63)):
        with pytest.raises(OverflowError):
            np.sum(np.arange(3), axis=axis)
        with pytest.raises(OverflowError, match="sum: axis"):
            t.sum(axis=axis)
    with pytest.raises(OverflowError, match="argmax: axis"):
        pynn.argmax(t, axis=2**64)
    with pytest.raises(OverflowError, match="expand_dims: axis"):
        pynn.expand_dims(t, 2**64)
    with pytest.raises(ValueError, match="transpose: axes"):
        pynn.transpose(t, (2**64,))
    with pytest.raises(ValueError, match="tensordot: axes"):
        pynn.tensordot(t, t, 2**64)


# ---------------------------------------------------------------- shapes and axes as arrays

class _RaisingIndex:
    def __index__(self):
        raise RuntimeError("boom")


class _RaisingLen:
    def __len__(self):
        raise RuntimeError("len boom")

    def __getitem__(self, i):
        return 1


class _EndlessSequence:
    def __getitem__(self, i):
        return 1


def test_shapes_and_axes_from_integer_arrays():
    # Before: SIGSEGV (a NULL from __index__ dereferenced).
    for shape in (np.array([2, 3]), pynn.tensor([2, 3]), np.array([2, 3], "int32"), pynn.tensor([2, 3], "uint8")):
        assert pynn.zeros(shape).shape == np.zeros(np.array([2, 3])).shape == (2, 3)
        assert pynn.arange(6).reshape(shape).shape == (2, 3)
        assert pynn.broadcast_to(pynn.ones(3), shape).shape == (2, 3)
    assert pynn.zeros(np.array(3)).shape == np.zeros(np.array(3)).shape == (3,)
    assert pynn.zeros(pynn.tensor(3)).shape == (3,)
    n = np.arange(24.0).reshape(2, 3, 4)
    x = pynn.tensor(n)
    for axis in (pynn.tensor([0, 1]), np.array([0, 2]), np.array([-1])):
        want = np.sum(n, axis=tuple(int(a) for a in np.asarray(axis)))
        np.testing.assert_array_equal(pynn.sum(x, axis=axis).numpy(), want)
        np.testing.assert_array_equal(x.mean(axis=axis).numpy(), np.mean(n, axis=tuple(int(a) for a in np.asarray(axis))))


def test_gradient_of_a_reduction_over_array_axes():
    n = np.arange(24.0).reshape(2, 3, 4)
    for axis in (np.array([0, 2]), pynn.tensor([1])):
        x = pynn.Variable(n)
        with pynn.GradientTape() as tape:
            y = pynn.mean(x, axis=axis)
        g = tape.gradient(y, x)
        count = np.prod([n.shape[int(a)] for a in np.asarray(axis)])
        np.testing.assert_allclose(g.numpy(), np.full(n.shape, 1.0 / count))


def test_bad_shape_arguments_raise_type_errors():
    for bad in (np.array([2.0, 3.0]), np.array([[2, 3]]), "ab", pynn.tensor([2.0, 3.0]), [2, "3"], [2, None],
                {"a": 1}, 2.0):
        with pytest.raises(TypeError, match="shape"):
            pynn.zeros(bad)
        with pytest.raises(TypeError, match="shape"):
            pynn.arange(6).reshape(bad)
    with pytest.raises(TypeError, match="axis"):
        pynn.sum(pynn.ones((2, 3)), axis=np.array([0.0]))
    with pytest.raises(TypeError, match="axis"):
        pynn.sum(pynn.ones((2, 3)), axis="0")


def test_raising_index_len_and_endless_sequences_propagate_cleanly():
    # NumPy lets the __index__ error through too.
    for bad in (_RaisingIndex(), [_RaisingIndex()], [2, _RaisingIndex()]):
        with pytest.raises(RuntimeError, match="boom"):
            np.zeros(bad)
        with pytest.raises(RuntimeError, match="boom"):
            pynn.zeros(bad)
        with pytest.raises(RuntimeError, match="boom"):
            pynn.sum(pynn.ones(3), axis=bad)
    with pytest.raises(RuntimeError, match="len boom"):
        pynn.zeros(_RaisingLen())  # before: SystemError
    with pytest.raises(TypeError):
        pynn.zeros(_EndlessSequence())  # no len(): refused, never iterated forever
    with pytest.raises(ValueError, match="at most 16 dimensions"):
        pynn.zeros([1] * 17)


# ---------------------------------------------------------------- Ctrl-C (Note [Interrupts])

def _run(code, timeout=120):
    return python_child(textwrap.dedent(code), capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("op", ["pynn.sum(x)", "pynn.max(x)", "pynn.sum(x.reshape(2**20, 2**20), axis=1)",
                                "pynn.argmin(x.reshape(2**20, 2**20), axis=1)"])
def test_ctrl_c_interrupts_a_long_kernel(op):
    # 2**40 elements of a stride-0 view: minutes to hours of work in one call
    # (whole-tensor reductions run in blocks, axis=1 along the kept rows), so
    # only the check inside the kernel can stop it. SIGINT comes after 0.5 s.
    r = _run(f"""
        import os, signal, threading, pynn
        x = pynn.broadcast_to(pynn.ones(1, "float64"), (2**40,))
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            {op}
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "interrupted"


def test_a_signal_handler_that_does_not_raise_lets_the_kernel_finish():
    r = _run("""
        import os, signal, threading, pynn
        hits = []
        signal.signal(signal.SIGINT, lambda *a: hits.append(1))
        x = pynn.broadcast_to(pynn.ones(1, "float64"), (2**30,))
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        s = float(pynn.sum(x))
        print(s == 2.0**30, hits == [1])
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True"]
