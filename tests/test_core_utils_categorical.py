"""pynn.utils.to_categorical and normalize against Keras 3's numerical_utils tests."""

import numpy as np
import pytest

import pynn
from pynn.utils import normalize, to_categorical

NUM_CLASSES = 5


@pytest.mark.parametrize("shape, expected", [((1,), (1, NUM_CLASSES)), ((3,), (3, NUM_CLASSES)),
                                             ((4, 3), (4, 3, NUM_CLASSES)), ((5, 4, 3), (5, 4, 3, NUM_CLASSES)),
                                             ((3, 1), (3, NUM_CLASSES)), ((3, 2, 1), (3, 2, NUM_CLASSES))])
def test_to_categorical_shapes_as_keras(shape, expected):
    label = np.random.default_rng(0).integers(0, NUM_CLASSES, shape)
    one_hot = to_categorical(label, NUM_CLASSES)
    assert one_hot.shape == expected and one_hot.dtype == np.float64
    assert np.all(one_hot.sum(axis=-1) == 1)
    assert np.all(np.argmax(one_hot, -1).reshape(label.shape) == label)


def test_to_categorical_infers_the_classes_and_takes_tensors():
    assert to_categorical([0, 2, 5]).shape == (3, 6)
    got = to_categorical(pynn.tensor(np.array([0, 2, 1, 3, 4])), NUM_CLASSES)
    assert isinstance(got, pynn.Tensor) and got.dtype == pynn.float32
    np.testing.assert_array_equal(np.asarray(got), np.eye(5, dtype=np.float32)[[0, 2, 1, 3, 4]])
    assert to_categorical(np.zeros(0, np.int64), 3).shape == (0, 3)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\), got values from -1 to 2"):
        to_categorical([2, -1], 3)
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        to_categorical([0, 2], 2)
    with pytest.raises(ValueError, match="num_classes must be a non-negative int"):
        to_categorical([0], 2.5)
    with pytest.raises(TypeError, match="expected integer class indices"):
        to_categorical(["a", "b"])


@pytest.mark.parametrize("order", [1, 2, 3])
def test_normalize_as_keras(order):
    x = np.random.default_rng(1337).uniform(size=(3, 3)).astype(np.float32)
    l2 = np.atleast_1d(np.linalg.norm(x, order, axis=-1))
    l2[l2 == 0] = 1
    expected = x / np.expand_dims(l2, axis=-1)
    np.testing.assert_allclose(normalize(x, axis=-1, order=order), expected, rtol=1e-6)
    got = normalize(pynn.tensor(x), axis=-1, order=order)
    assert isinstance(got, pynn.Tensor) and got.dtype == pynn.float32
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)
    zero = normalize(np.zeros((2, 3)))
    np.testing.assert_array_equal(zero, np.zeros((2, 3)))
