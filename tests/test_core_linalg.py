"""matmul, dot, tensordot: NumPy's shape rules on the one GEMM, every micro-kernel."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pynn
from oracle import DTYPES, assert_like_numpy, isa, random_array, threads  # noqa: F401


def rel_frobenius(got, ref):
    got = np.asarray(got, dtype=np.float64)
    den = np.linalg.norm(ref)
    return np.linalg.norm(got - ref) / (den if den else 1.0)


def check_product(got, ref64, dtype):
    assert got.shape == ref64.shape and got.dtype == np.dtype(dtype)
    if np.dtype(dtype).kind == "f":
        assert np.all(np.isfinite(np.asarray(got)))
        assert rel_frobenius(got, ref64) < (1e-5 if dtype == "float32" else 1e-12)
    else:
        np.testing.assert_array_equal(np.asarray(got), ref64)


def edge_sizes():
    info = pynn._core._gemm_info()
    mr, nr, kc = info["mr"], info["nr"], info["kc"]
    return sorted({0, 1, 2, mr - 1, mr, mr + 1, nr + 1, kc + 1})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_edges_every_isa(dtype, isa, threads):
    rng = np.random.default_rng(11)
    sizes = edge_sizes()
    for m, n, k in itertools.product(sizes, sizes, sizes):
        if m * n * k > 300_000 and (m + n + k) % 3:  # sample the largest products
            continue
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        check_product(pynn.from_numpy(a) @ pynn.from_numpy(b), a.astype(np.float64) @ b.astype(np.float64), dtype)


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_transposes_and_strides(ta, tb, dtype, isa):
    rng = np.random.default_rng(12)
    m, n, k = 67, 45, 300
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    pa, pb = pynn.from_numpy(a), pynn.from_numpy(b)
    pa, na = (pa.T, a.T) if ta else (pa, a)
    pb, nb = (pb.T, b.T) if tb else (pb, b)
    check_product(pa @ pb, na.astype(np.float64) @ nb.astype(np.float64), dtype)
    # negative and non-unit strides
    check_product(pa[::-1, ::2] @ pb[::2, ::-3], na[::-1, ::2].astype(np.float64) @ nb[::2, ::-3], dtype)


def test_large_k_and_mlp_shapes(threads):
    rng = np.random.default_rng(13)
    for m, k, n in [(128, 784, 512), (128, 512, 10), (64, 4096, 33), (1000, 70, 1000)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        check_product(pynn.from_numpy(a) @ pynn.from_numpy(b), a.astype(np.float64) @ b, "float32")
    x = rng.standard_normal((128, 784)).astype(np.float32)
    dh = rng.standard_normal((128, 512)).astype(np.float32)
    check_product(pynn.from_numpy(x).T @ pynn.from_numpy(dh), x.T.astype(np.float64) @ dh, "float32")


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", ["bool", "uint8", "int32", "float32"])
def test_product_dtypes(da, db):
    rng = np.random.default_rng(14)
    a = random_array(rng, (5, 7), da)
    b = random_array(rng, (7, 3), db)
    expected = np.matmul(a, b)
    got = pynn.matmul(pynn.from_numpy(a), pynn.from_numpy(b))
    if expected.dtype.kind == "f":
        assert got.dtype == expected.dtype
        assert rel_frobenius(got, expected.astype(np.float64)) < 1e-6
    else:
        assert_like_numpy(got, expected)


def test_nan_prefilled_output_is_never_read():
    # A fresh result's memory is reused from the allocator's cache: fill a
    # block with NaN, free it, and multiply into the same size class.
    nan = pynn.full((64, 64), float("nan"))
    del nan
    a = pynn.ones((64, 32))
    b = pynn.ones((32, 64))
    assert np.all(np.asarray(a @ b) == 32.0)


@given(data=st.data())
def test_matmul_shape_rules(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4,
                                                         max_side=4))
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes.input_shapes[0])
    b = rng.standard_normal(shapes.input_shapes[1])
    expected = np.matmul(a, b)
    got = pynn.matmul(pynn.from_numpy(a), pynn.from_numpy(b))
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-12)


def test_batch_broadcasting():
    rng = np.random.default_rng(15)
    a = rng.standard_normal((2, 1, 3, 4))
    b = rng.standard_normal((5, 4, 6))
    got = pynn.from_numpy(a) @ pynn.from_numpy(b)
    assert got.shape == (2, 5, 3, 6)
    np.testing.assert_allclose(np.asarray(got), a @ b, rtol=1e-12)
    c = rng.standard_normal((7, 3, 4))
    np.testing.assert_allclose(np.asarray(pynn.matmul(c, b[0])), c @ b[0], rtol=1e-12)  # folded batch
    np.testing.assert_allclose(np.asarray(pynn.matmul(c[::-1, :, ::2], b[0][::2])),
                               c[::-1, :, ::2] @ b[0][::2], rtol=1e-12)


@given(data=st.data())
def test_dot_rules(data):
    nd_a = data.draw(st.integers(0, 4))
    nd_b = data.draw(st.integers(0, 3))
    k = data.draw(st.integers(1, 4))
    sa = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd_a, max_size=nd_a)))
    sb = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd_b, max_size=nd_b)))
    if nd_a:
        sa = sa[:-1] + (k,)
    if nd_b == 1:
        sb = (k,)
    elif nd_b >= 2:
        sb = sb[:-2] + (k, sb[-1])
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    expected = np.dot(a, b)
    got = pynn.dot(pynn.from_numpy(np.asarray(a)), pynn.from_numpy(np.asarray(b)))
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-12)


def test_dot_examples():
    rng = np.random.default_rng(16)
    for sa, sb in [((2, 3, 4, 5), (5, 6)), ((2, 3, 4, 5), (5,)), ((2, 3, 4), (5, 4, 6)), ((4,), (4,)),
                   ((4,), (3, 4, 2))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        got = pynn.dot(a, b)
        np.testing.assert_allclose(np.asarray(got), np.dot(a, b), rtol=1e-12)
        assert got.shape == np.dot(a, b).shape
    assert_like_numpy(pynn.dot(pynn.tensor([1.0, 2.0]), 3.0), np.array([3.0, 6.0], np.float32))


@pytest.mark.parametrize("axes", [0, 1, 2, ([1], [0]), ([0, 2], [2, 0]), ((2, 1), (1, 0))])
def test_tensordot(axes):
    rng = np.random.default_rng(17)
    a = rng.standard_normal((3, 4, 5))
    b = rng.standard_normal((5, 4, 3)) if axes == ([0, 2], [2, 0]) else rng.standard_normal((4, 5, 3))
    if axes in (0, 1, ([1], [0])):
        b = rng.standard_normal((4, 5, 3))
    if axes == 1:
        b = rng.standard_normal((5, 2))
    if axes == 2:
        b = rng.standard_normal((4, 5, 2))
    if axes == ((2, 1), (1, 0)):
        b = rng.standard_normal((4, 5, 2))
    expected = np.tensordot(a, b, axes)
    got = pynn.tensordot(pynn.from_numpy(a), pynn.from_numpy(b), axes)
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match=r"matmul: \(32,784\) @ \(128,10\): inner dimensions 784 and 128 differ"):
        pynn.zeros((32, 784)) @ pynn.zeros((128, 10))
    with pytest.raises(ValueError, match="matmul"):
        pynn.matmul(pynn.zeros((2, 3, 4)), pynn.zeros((5, 4, 2)))
    with pytest.raises(ValueError, match="enough dimensions"):
        pynn.matmul(pynn.zeros(3), 2.0)
    with pytest.raises(ValueError, match=r"dot: shapes \(2,3\) and \(4,5\) not aligned"):
        pynn.dot(pynn.zeros((2, 3)), pynn.zeros((4, 5)))
    with pytest.raises(ValueError, match="shape-mismatch"):
        pynn.tensordot(pynn.zeros((2, 3)), pynn.zeros((4, 5)), axes=1)
