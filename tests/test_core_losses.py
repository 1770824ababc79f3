"""Losses against NumPy versions of Keras 3's formulas; the fused classes against the functions."""

import numpy as np
import pytest

import pynn
from pynn import losses
from pynn.utils import gradcheck

EPS = 1e-7
rng = np.random.default_rng(0)
T = rng.random((6, 4))
P = rng.random((6, 4)) * 0.98 + 0.01
LOGITS = rng.standard_normal((6, 4)) * 3
LABELS = rng.integers(0, 4, 6)


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


REFERENCES = {
    "mean_squared_error": (lambda: losses.mean_squared_error(T, P), np.mean((P - T) ** 2, -1)),
    "mean_absolute_error": (lambda: losses.mean_absolute_error(T, P), np.mean(np.abs(P - T), -1)),
    "binary_crossentropy": (lambda: losses.binary_crossentropy(T, P),
                            np.mean(-(T * np.log(np.clip(P, EPS, 1 - EPS)) + (1 - T) * np.log(1 - np.clip(P, EPS, 1 - EPS))), -1)),
    "binary_crossentropy logits": (lambda: losses.binary_crossentropy(T, LOGITS, from_logits=True),
                                   np.mean(np.maximum(LOGITS, 0) - LOGITS * T + np.log1p(np.exp(-np.abs(LOGITS))), -1)),
    "categorical_crossentropy": (lambda: losses.categorical_crossentropy(T, P),
                                 -np.sum(T * np.log(np.clip(P / P.sum(-1, keepdims=True), EPS, 1 - EPS)), -1)),
    "categorical_crossentropy logits": (lambda: losses.categorical_crossentropy(T, LOGITS, from_logits=True),
                                        -np.sum(T * np.log(np_softmax(LOGITS)), -1)),
    "sparse_categorical_crossentropy logits": (
        lambda: losses.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True),
        -np.log(np_softmax(LOGITS)[np.arange(6), LABELS])),
    "kl_divergence": (lambda: losses.kl_divergence(T, P),
                      np.sum(np.clip(T, EPS, 1) * np.log(np.clip(T, EPS, 1) / np.clip(P, EPS, 1)), -1)),
    "cosine_similarity": (lambda: losses.cosine_similarity(T, P),
                          -np.sum(T / np.linalg.norm(T, axis=-1, keepdims=True) * P / np.linalg.norm(P, axis=-1, keepdims=True), -1)),
    "huber": (lambda: losses.huber(T, P * 3, delta=1.0),
              np.mean(np.where(np.abs(P * 3 - T) <= 1, 0.5 * (P * 3 - T) ** 2, np.abs(P * 3 - T) - 0.5), -1)),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_loss_functions_follow_keras(name):
    got, expected = REFERENCES[name]
    np.testing.assert_allclose(np.asarray(got()), expected, rtol=1e-10, atol=1e-12)


def test_classes_reduce_and_use_the_fused_kernels():
    np.testing.assert_allclose(float(losses.MeanSquaredError()(T, P)), np.mean((P - T) ** 2), rtol=1e-12)
    np.testing.assert_allclose(float(losses.MeanSquaredError(reduction="sum")(T, P)), np.sum(np.mean((P - T) ** 2, -1)))
    assert losses.MeanSquaredError(reduction=None)(T, P).shape == (6,)
    fused = losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS)
    np.testing.assert_allclose(float(fused), np.mean(-np.log(np_softmax(LOGITS)[np.arange(6), LABELS])), rtol=1e-12)
    onehot = np.eye(4)[LABELS]
    np.testing.assert_allclose(float(losses.CategoricalCrossentropy(from_logits=True)(onehot, LOGITS)), float(fused))
    np.testing.assert_allclose(float(losses.BinaryCrossentropy(from_logits=True)(T, LOGITS)),
                               np.mean(losses.binary_crossentropy(T, LOGITS, from_logits=True)), rtol=1e-12)
    assert gradcheck(lambda x: losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, x), [LOGITS])
    assert gradcheck(lambda p: losses.categorical_crossentropy(T, p), [P])
    assert gradcheck(lambda p: losses.huber(T, p * 3), [P])
    assert isinstance(losses.get("sparse_categorical_crossentropy"), losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert losses.MeanAbsoluteError().name == "mean_absolute_error"
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get("hinge_plus")
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="max")
