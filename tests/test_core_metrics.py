"""Stateful metrics against NumPy computations of Keras' definitions, over several batches."""

import numpy as np
import pytest

import pynn
from pynn import metrics

rng = np.random.default_rng(0)
PROBS = rng.random((50, 6))
PROBS /= PROBS.sum(1, keepdims=True)
LABELS = rng.integers(0, 6, 50)
ONEHOT = np.eye(6)[LABELS]
BIN_T = (rng.random((50, 1)) > 0.5).astype(np.float64)
BIN_P = np.clip(BIN_T * 0.3 + rng.random((50, 1)) * 0.7, 0, 1)


def batches(*arrays, size=16):
    for i in range(0, len(arrays[0]), size):
        yield tuple(a[i:i + size] for a in arrays)


def run(metric, *arrays):
    metric.reset_state()
    for b in batches(*arrays):
        metric.update_state(*b)
    return metric.result()


def np_auc(t, p, n=200):
    eps = 1e-7
    th = np.array([-eps] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + eps])
    above = p.reshape(-1, 1) > th
    pos = t.reshape(-1, 1) > 0.5
    tp, fp = (above & pos).sum(0), (above & ~pos).sum(0)
    fn, tn = pos.sum() - tp, (~pos).sum() - fp
    tpr, fpr = tp / np.maximum(tp + fn, 1), fp / np.maximum(fp + tn, 1)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def test_accuracies():
    assert run(metrics.SparseCategoricalAccuracy(), LABELS, PROBS) == pytest.approx(np.mean(PROBS.argmax(1) == LABELS))
    assert run(metrics.CategoricalAccuracy(), ONEHOT, PROBS) == pytest.approx(np.mean(PROBS.argmax(1) == LABELS))
    assert run(metrics.BinaryAccuracy(), BIN_T, BIN_P) == pytest.approx(np.mean((BIN_P > 0.5) == (BIN_T > 0.5)))
    rank = (PROBS > PROBS[np.arange(50), LABELS][:, None]).sum(1)
    assert run(metrics.TopKCategoricalAccuracy(k=2), ONEHOT, PROBS) == pytest.approx(np.mean(rank < 2))
    assert run(metrics.Accuracy(), LABELS, PROBS.argmax(1)) == pytest.approx(np.mean(PROBS.argmax(1) == LABELS))


def test_precision_recall_auc_mse():
    pred, true = BIN_P > 0.5, BIN_T > 0.5
    tp, fp, fn = np.sum(pred & true), np.sum(pred & ~true), np.sum(~pred & true)
    assert run(metrics.Precision(), BIN_T, BIN_P) == pytest.approx(tp / (tp + fp))
    assert run(metrics.Recall(), BIN_T, BIN_P) == pytest.approx(tp / (tp + fn))
    assert run(metrics.AUC(), BIN_T, BIN_P) == pytest.approx(np_auc(BIN_T, BIN_P), rel=1e-12)
    assert run(metrics.MeanSquaredError(), ONEHOT, PROBS) == pytest.approx(np.mean((PROBS - ONEHOT) ** 2))


def test_mean_weights_reset_and_get():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 3.0])
    assert m.result() == pytest.approx(10 / 4)
    m.reset_state()
    assert m.result() == 0.0
    acc = metrics.get("accuracy", loss="sparse_categorical_crossentropy")
    assert isinstance(acc, metrics.SparseCategoricalAccuracy) and acc.name == "accuracy"
    assert isinstance(metrics.get("accuracy", loss=pynn.losses.BinaryCrossentropy()), metrics.BinaryAccuracy)
    assert isinstance(metrics.get("auc"), metrics.AUC)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.get("f7_score")
