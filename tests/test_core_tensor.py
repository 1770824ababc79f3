"""Tensors: creation, dtypes, views without copies, indexing, NumPy interop."""

import gc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pynn
from oracle import DTYPES, assert_like_numpy, random_array


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_compares_like_numpy(name):
    d = getattr(pynn, name if name != "bool" else "bool_")
    assert d == name and d == np.dtype(name) and d == np.dtype(name).type
    assert d.itemsize == np.dtype(name).itemsize
    assert pynn.zeros(3, dtype=d).dtype == np.dtype(name)
    assert np.zeros(2, dtype=d).dtype == np.dtype(name)  # NumPy accepts pynn dtypes


def test_tensor_copies_and_default_dtypes():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = pynn.tensor(a)
    a[0, 0] = 99
    assert_like_numpy(t, np.arange(6, dtype=np.int32).reshape(2, 3))
    assert pynn.tensor([1.5, 2.0]).dtype == pynn.float32  # pynn's default float
    assert pynn.tensor([1, 2]).dtype == pynn.int64
    assert pynn.tensor([True, False]).dtype == pynn.bool
    assert pynn.tensor(np.ones(2)).dtype == pynn.float64  # arrays keep their dtype
    assert_like_numpy(pynn.tensor([[1, 2], [3, 4]], dtype="float64"), np.array([[1.0, 2], [3, 4]]))
    assert_like_numpy(pynn.tensor(3.5), np.array(3.5, dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.complex64, np.float16, np.int8, np.uint16, "U3"])
def test_unsupported_dtype_is_type_error(dtype):
    with pytest.raises(TypeError, match="unsupported dtype|not understood"):
        pynn.tensor(np.zeros(2, dtype=dtype))
    if dtype != "U3":
        with pytest.raises(TypeError, match=np.dtype(dtype).name):
            pynn.from_numpy(np.zeros(2, dtype=dtype))


def test_factories():
    assert_like_numpy(pynn.zeros((2, 3)), np.zeros((2, 3), np.float32))
    assert_like_numpy(pynn.ones(4, dtype=pynn.int32), np.ones(4, np.int32))
    assert_like_numpy(pynn.full((2, 2), 7), np.full((2, 2), 7, np.int64))
    assert_like_numpy(pynn.full((2,), 2.5, dtype="float64"), np.full(2, 2.5))
    assert_like_numpy(pynn.arange(5), np.arange(5))
    assert_like_numpy(pynn.arange(1, 2, 0.25), np.arange(1, 2, 0.25, dtype=np.float32))
    assert_like_numpy(pynn.eye(3, 4, k=1), np.eye(3, 4, k=1, dtype=np.float32))
    t = pynn.tensor(np.ones((2, 5), np.int32))
    assert_like_numpy(pynn.zeros_like(t), np.zeros((2, 5), np.int32))
    assert_like_numpy(pynn.ones_like(t, dtype="float64"), np.ones((2, 5)))
    assert pynn.empty((3, 0)).shape == (3, 0)
    with pytest.raises(ValueError, match="negative dimensions"):
        pynn.zeros((2, -1))


def test_attributes_and_conversions():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    t = pynn.tensor(a)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.size == 24 and len(t) == 2
    assert t.strides == a.strides and t.is_contiguous()
    assert not t.T.is_contiguous() and t.T.strides == a.T.strides
    assert t.tolist() == a.tolist()
    one = pynn.tensor([[2.5]])
    assert one.item() == 2.5 and float(one) == 2.5 and int(one) == 2 and bool(one)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError):
        len(pynn.tensor(1.0))


def test_repr_like_numpy():
    t = pynn.tensor(np.arange(4, dtype=np.float32).reshape(2, 2))
    assert repr(t) == "tensor([[0., 1.],\n        [2., 3.]], dtype=float32)"
    assert repr(pynn.tensor([True, False])) == "tensor([ True, False], dtype=bool)"
    assert repr(pynn.tensor(np.int32(3))) == "tensor(3, dtype=int32)"


def test_from_numpy_shares_memory_any_strides():
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    view = base[4:0:-2, ::-3]  # negative strides and an offset
    t = pynn.from_numpy(view)
    assert t.shape == view.shape and t.strides == view.strides
    assert_like_numpy(t, view)
    t[0, 0] = -1.0
    assert view[0, 0] == -1.0  # pynn writes are seen by NumPy
    view[1, 1] = -2.0
    assert float(t[1, 1]) == -2.0  # and NumPy's by pynn
    del base, view
    gc.collect()
    assert float(t[0, 0]) == -1.0  # the array is kept alive


def test_numpy_views_share_memory():
    t = pynn.ones((3, 4))
    a = t.numpy()
    b = np.asarray(t)
    a[1, 2] = 5
    assert float(t[1, 2]) == 5 and b[1, 2] == 5
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t, copy=False)[1, 2] == 5


def test_unaligned_numpy_array_is_refused_clearly():
    raw = np.zeros(9, dtype=np.uint8)
    unaligned = raw[1:].view(np.float64)
    with pytest.raises(ValueError, match="not aligned"):
        pynn.from_numpy(unaligned)
    assert_like_numpy(pynn.tensor(unaligned), unaligned)  # copying works


@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
    data=st.data(),
)
def test_basic_indexing_is_a_view(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    t = pynn.tensor(a)
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    expected = a[key]
    got = t[key]
    assert_like_numpy(got, expected)
    if got.size:  # a view: writing through it changes t
        got[...] = -7
        a[key] = -7
        assert_like_numpy(t, a)


def test_index_errors():
    t = pynn.zeros((3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        t[3]
    with pytest.raises(IndexError, match="out of bounds"):
        t[:, -5]
    with pytest.raises(IndexError, match="too many indices"):
        t[1, 2, 3]
    with pytest.raises(IndexError, match="valid indices"):
        t[[0, 1]]
    with pytest.raises(ValueError, match="step cannot be zero"):
        t[::0]


def test_setitem_broadcasts_and_casts():
    a = np.zeros((4, 5), dtype=np.float32)
    t = pynn.tensor(a)
    t[1:3] = 2.5
    a[1:3] = 2.5
    t[..., 0] = pynn.tensor([1.0, 2.0, 3.0, 4.0])
    a[..., 0] = [1.0, 2.0, 3.0, 4.0]
    t[::-2, 1::2] = np.array([7.0, 8.0], dtype=np.float64)
    a[::-2, 1::2] = [7.0, 8.0]
    assert_like_numpy(t, a)
    i = pynn.zeros(3, dtype=pynn.int32)
    i[0] = 2.9  # NumPy's assignment casting truncates
    assert int(i[0]) == 2
    with pytest.raises(OverflowError):
        pynn.zeros(2, dtype=pynn.uint8)[0] = 300
    with pytest.raises(ValueError, match="broadcast"):
        t[0] = pynn.ones(3)
    # NumPy drops the value's leading size-1 axes beyond the destination's rank (fuzzer find).
    t[0] = pynn.ones((1, 1, 5)) * 3
    a[0] = np.ones((1, 1, 5)) * 3
    t[1, 2:3] = np.full((1, 1), 9.0)
    a[1, 2:3] = np.full((1, 1), 9.0)
    assert_like_numpy(t, a)
    t[...] = np.arange(20.0).reshape(1, 1, 4, 5)[:, :, ::-1]
    a[...] = np.arange(20.0).reshape(1, 1, 4, 5)[:, :, ::-1]
    assert_like_numpy(t, a)
    with pytest.raises(ValueError, match="broadcast"):
        t[0] = pynn.ones((2, 5))  # a leading axis that is not 1 stays an error, as in NumPy


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5), data=st.data())
def test_reshape_views_when_possible(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    perm = data.draw(st.permutations(range(len(shape))))
    av = a.transpose(perm)[..., ::-1]
    tv = pynn.tensor(a).transpose(perm)[..., ::-1]
    new = data.draw(st.sampled_from([(-1,), (av.shape[0], -1), av.shape[::-1]]))
    assert_like_numpy(tv.reshape(new), av.reshape(new))
    c = pynn.tensor(a)
    r = c.reshape(-1)
    r[0] = 123.0  # contiguous: always a view
    assert float(c.reshape(-1)[0]) == 123.0


def test_reshape_errors_name_shapes():
    with pytest.raises(ValueError, match=r"\(3,4\).*\(5,5\)"):
        pynn.zeros((3, 4)).reshape(5, 5)
    with pytest.raises(ValueError, match="one unknown"):
        pynn.zeros((3, 4)).reshape(-1, -1)


def test_transpose_expand_squeeze_broadcast_are_views():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = pynn.tensor(a)
    assert_like_numpy(t.T, a.T)
    assert_like_numpy(t.transpose(1, 0, 2), a.transpose(1, 0, 2))
    assert_like_numpy(pynn.transpose(t, (2, 0, 1)), a.transpose(2, 0, 1))
    assert_like_numpy(pynn.expand_dims(t, (0, 4)), np.expand_dims(a, (0, 4)))
    s = pynn.tensor(np.ones((1, 3, 1)))
    assert_like_numpy(pynn.squeeze(s), np.ones(3))
    assert_like_numpy(pynn.squeeze(s, 0), np.ones((3, 1)))
    assert_like_numpy(pynn.broadcast_to(pynn.tensor([1, 2, 3]), (2, 3)), np.broadcast_to([1, 2, 3], (2, 3)))
    v = t.T
    v[0, 0, 1] = -5.0
    assert float(t[1, 0, 0]) == -5.0
    with pytest.raises(ValueError, match="squeeze"):
        pynn.squeeze(s, 1)
    with pytest.raises(pynn.AxisError):
        t.transpose(0, 1, 5)
    with pytest.raises(ValueError, match="broadcast"):
        pynn.broadcast_to(t, (3, 3, 4))


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_astype_like_numpy(src, dst):
    a = random_array(np.random.default_rng(0), (3, 4), src)[:, ::-1]
    with np.errstate(all="ignore"):
        expected = a.astype(dst)
    got = pynn.from_numpy(a).astype(dst)
    assert_like_numpy(got, expected)


def test_copy_and_contiguous():
    a = np.arange(12.0).reshape(3, 4)
    t = pynn.tensor(a)
    c = t.copy()
    c[0, 0] = 100
    assert float(t[0, 0]) == 0.0
    assert t.contiguous() is t or t.contiguous()._shares_storage(t)
    nc = t.T.contiguous()
    assert nc.is_contiguous()
    assert_like_numpy(nc, a.T)
