"""Merge layers and pynn.concatenate / stack, against NumPy; a two-input functional model with
merges trains captured as it does eagerly."""

import numpy as np
import pytest

import pynn
from pynn import layers

from oracle import assert_like_numpy, assert_same_state, captured_and_eager


def test_concatenate_and_stack_as_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(2, 4))
    assert_like_numpy(pynn.concatenate([a, b], axis=1), np.concatenate([a, b], axis=1))
    assert_like_numpy(pynn.concatenate([a, a[::-1]], axis=0), np.concatenate([a, a[::-1]], axis=0))
    assert_like_numpy(pynn.concatenate([a, b.T], axis=None), np.concatenate([a, b.T], axis=None))
    assert_like_numpy(pynn.concatenate([a, np.zeros((0, 3), np.float32)], -2), np.concatenate([a, np.zeros((0, 3), np.float32)], -2))
    assert_like_numpy(pynn.stack([a, a * 2, a * 3], axis=1), np.stack([a, a * 2, a * 3], axis=1))
    assert_like_numpy(pynn.stack([np.arange(3), np.arange(3)], axis=-1), np.stack([np.arange(3)] * 2, axis=-1))
    with pytest.raises(ValueError, match=r"except for the concatenation axis must match exactly, but along dimension 0"):
        pynn.concatenate([a, b.T], axis=1)
    with pytest.raises(ValueError, match="same number of dimensions"):
        pynn.concatenate([a, a[0]])
    with pytest.raises(ValueError, match="zero-dimensional"):
        pynn.concatenate([pynn.tensor(1.0)])
    with pytest.raises(pynn.AxisError):
        pynn.concatenate([a, a], axis=2)
    with pytest.raises(ValueError, match="same shape"):
        pynn.stack([a, b])


def test_concatenate_gradient():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 4))
    pynn.utils.gradcheck(lambda x, y: pynn.sum(pynn.square(pynn.concatenate([x, y * 2.0], axis=1))), [a, b])


@pytest.mark.parametrize("cls, fn", [(layers.Add, lambda xs: sum(xs)), (layers.Multiply, lambda xs: xs[0] * xs[1] * xs[2]),
                                     (layers.Average, lambda xs: sum(xs) / 3),
                                     (layers.Maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
                                     (layers.Minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2]))])
def test_merge_layers_as_numpy(cls, fn):
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(4, 5)).astype(np.float32) for _ in range(3)]
    got = cls()(xs)
    np.testing.assert_allclose(np.asarray(got), fn(xs), rtol=1e-6)
    inputs = [layers.Input((5,)) for _ in range(3)]
    assert cls()(inputs).shape == (None, 5)


def test_subtract_concatenate_and_errors():
    a, b = np.ones((2, 3), np.float32), np.full((2, 3), 3.0, np.float32)
    np.testing.assert_array_equal(np.asarray(layers.subtract([a, b])), a - b)
    np.testing.assert_array_equal(np.asarray(layers.concatenate([a, b], axis=0)), np.concatenate([a, b], 0))
    assert layers.Concatenate()([layers.Input((3,)), layers.Input((4,))]).shape == (None, 7)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([a, a, a])
    with pytest.raises(ValueError, match="at least 2 inputs"):
        layers.Add()([a])
    with pytest.raises(ValueError, match="cannot be broadcast together"):
        layers.Add()([layers.Input((3,)), layers.Input((4,))])
    with pytest.raises(ValueError, match="must match except along axis -1"):
        layers.Concatenate()([layers.Input((3, 2)), layers.Input((4, 2))])


def test_two_input_functional_model_with_merges_trains_captured():
    rng = np.random.default_rng(3)
    xa, xb = rng.normal(size=(90, 5)).astype(np.float32), rng.normal(size=(90, 7)).astype(np.float32)
    y = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0)

    def make(**options):
        a, b = layers.Input((5,)), layers.Input((7,))
        ha, hb = layers.Dense(6, activation="relu")(a), layers.Dense(6, activation="tanh")(b)
        merged = layers.concatenate([layers.add([ha, hb]), layers.multiply([ha, hb]), layers.average([ha, hb])])
        m = pynn.Model([a, b], layers.Dense(3, activation="softmax")(merged))
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    ((ha_, a), (hb_, b)) = [(r, m) for r, m in captured_and_eager(
        make, lambda m: m.fit([xa, xb], y, batch_size=16, epochs=3, verbose=0).history)]
    assert ha_ == hb_
    assert_same_state(a, b)
    again = pynn.Model.from_config(a.get_config())  # the merge layers round-trip through the config
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in a.layers]
