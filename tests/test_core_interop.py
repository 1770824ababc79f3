"""Tensors as Python objects: pickling and copying (Note [Pickling tensors]), format, round, complex."""

import copy
import pickle

import numpy as np
import pytest

import pynn


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float32", "float64"])
def test_pickle_round_trip_every_dtype_and_views(dtype):
    base = np.arange(24).reshape(2, 3, 4).astype(dtype)
    for view in (lambda t: t, lambda t: t[:, ::-1, 1::2], lambda t: t.T, lambda t: t[1, 2]):
        t = view(pynn.tensor(base))
        u = pickle.loads(pickle.dumps(t))
        assert type(u) is pynn.Tensor and u.dtype == t.dtype and u.shape == t.shape and u.is_contiguous()
        np.testing.assert_array_equal(np.asarray(u), np.asarray(t))


def test_a_view_pickles_as_its_own_data():
    big = pynn.zeros((1000, 1000))
    assert len(pickle.dumps(big[:2, :3])) < 1000


def test_copy_and_deepcopy_do_not_share_memory():
    t = pynn.arange(6, dtype="float32").reshape(2, 3)
    for c in (copy.copy(t), copy.deepcopy(t)):
        c[0, 0] = 100.0
        assert float(t[0, 0]) == 0.0 and float(c[0, 0]) == 100.0


def test_variable_pickles_and_deepcopies_with_its_attributes():
    v = pynn.Variable(np.ones((2, 2), np.float32), trainable=False, name="w")
    params = {"W1": v, "b1": pynn.zeros(2)}                        # the book's pickle.dump(params)
    for w in (pickle.loads(pickle.dumps(params))["W1"], copy.deepcopy(v)):
        assert isinstance(w, pynn.Variable) and w.name == "w" and w.trainable is False
        w.assign_add(1.0)
        np.testing.assert_array_equal(np.asarray(w), 2 * np.ones((2, 2)))
    np.testing.assert_array_equal(np.asarray(v), np.ones((2, 2)))


def test_format_round_complex_follow_numpy_scalars():
    loss = pynn.tensor(0.123456, dtype="float64")
    assert f"{loss:.4f}" == "0.1235" and f"{loss:>8.2e}" == format(0.123456, ">8.2e")
    assert f"{pynn.tensor(7):04d}" == "0007"
    assert format(pynn.ones(2)) == str(pynn.ones(2))
    with pytest.raises(TypeError, match="format"):
        f"{pynn.ones(2):.2f}"
    assert round(pynn.tensor(2.6)) == 3 and round(pynn.tensor(2.567, dtype="float64"), 2) == 2.57
    np.testing.assert_array_equal(np.asarray(round(pynn.tensor([1.26, -0.5, 2.5]), 1)),
                                  np.round(np.array([1.26, -0.5, 2.5], np.float32), 1))
    assert complex(pynn.tensor(1.5)) == 1.5 + 0j
