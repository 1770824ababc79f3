"""Targets brought to the prediction's rank before every loss and metric (Note [Target rank]
in pynn/losses.py), the shape errors after that, and the book programs with 1-D targets.

Expected numbers marked "Keras" are the ones Keras 3's own test files state
(keras/src/losses/loss_test.py, losses_test.py, metrics/accuracy_metrics_test.py).
"""

import numpy as np
import pytest

import pynn
from pynn import layers, losses, metrics


def _np_loss(name, t, p):
    """float64 NumPy references of the per-sample losses over the last axis."""
    t, p = np.asarray(t, np.float64), np.asarray(p, np.float64)
    if name == "mse":
        return np.mean((p - t) ** 2, axis=-1)
    if name == "mae":
        return np.mean(np.abs(p - t), axis=-1)
    if name == "bce":
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return np.mean(-(t * np.log(q) + (1 - t) * np.log(1 - q)), axis=-1)
    if name == "bce_logits":
        return np.mean(np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p))), axis=-1)
    if name == "huber":
        e = np.abs(p - t)
        return np.mean(np.where(e <= 1.0, 0.5 * e * e, e - 0.5), axis=-1)
    if name == "kld":
        tc, pc = np.clip(t, 1e-7, 1), np.clip(p, 1e-7, 1)
        return np.sum(tc * np.log(tc / pc), axis=-1)
    raise AssertionError(name)


LOSSES = [
    ("mse", lambda: losses.MeanSquaredError(), losses.mean_squared_error),
    ("mae", lambda: losses.MeanAbsoluteError(), losses.mean_absolute_error),
    ("bce", lambda: losses.BinaryCrossentropy(), losses.binary_crossentropy),
    ("bce_logits", lambda: losses.BinaryCrossentropy(from_logits=True),
     lambda t, p: losses.binary_crossentropy(t, p, from_logits=True)),
    ("huber", lambda: losses.Huber(), losses.huber),
    ("kld", lambda: losses.KLDivergence(), losses.kl_divergence),
]


def _binary_data(n=7, seed=0):
    rng = np.random.default_rng(seed)
    t = (rng.random(n) > 0.5).astype(np.float32)
    p = rng.uniform(0.05, 0.95, size=(n, 1)).astype(np.float32)
    return t, p


def test_match_rank_keras_cases():
    # Keras: loss_test.py::test_squeeze_or_expand, in both argument orders.
    for a, b, want in [((3,), (3, 1), ((3, 1), (3, 1))), ((3, 2), (3, 2, 1), ((3, 2), (3, 2)))]:
        x1, x2 = losses.match_rank(pynn.ones(a), pynn.ones(b))
        assert (x1.shape, x2.shape) == want
        x2, x1 = losses.match_rank(pynn.ones(b), pynn.ones(a))
        assert (x1.shape, x2.shape) == (want[0], want[1])
    # Other pairs are left alone (and then broadcast, or raise, as the loss decides).
    x1, x2 = losses.match_rank(pynn.ones((3, 2)), pynn.ones((3,)))
    assert (x1.shape, x2.shape) == ((3, 2), (3,))
    # NumPy arrays work too (the compiled step passes them).
    x1, x2 = losses.match_rank(np.ones(4), np.ones((4, 1)))
    assert (x1.shape, x2.shape) == ((4, 1), (4, 1))


@pytest.mark.parametrize("name,make,fn", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_1d_targets_equal_2d_targets(name, make, fn):
    t, p = _binary_data()
    want = _np_loss(name, t[:, None], p)                       # (n,) per-sample values
    for target in (t, t[:, None]):
        per_sample = fn(target, p)
        assert per_sample.shape == (7,)                        # Keras: test_base_function_reduction
        np.testing.assert_allclose(np.asarray(per_sample), want, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(float(make()(target, p)), want.mean(), rtol=2e-6)
    # the prediction 1-D and the target (n, 1): the same numbers again
    np.testing.assert_allclose(float(make()(t[:, None], p[:, 0])), want.mean(), rtol=2e-6)


def test_mse_base_function_reduction_keras():
    # Keras: losses_test.py::MeanSquaredErrorTest.test_base_function_reduction
    loss = losses.mean_squared_error(np.array([4, 8, 12]), np.array([[3], [0], [1]], np.float32))
    assert loss.shape == (3,)
    np.testing.assert_allclose(np.asarray(loss), [1.0, 64.0, 121.0])


def test_binary_crossentropy_on_a_sigmoid_output_with_1d_targets():
    # A Dense(1, sigmoid) output keeps its logits, so the class takes the fused kernel.
    logits = pynn.tensor([[0.3], [-1.2], [2.0]])
    probs = pynn.sigmoid(logits)
    probs._keras_logits = logits
    t = np.array([1.0, 0.0, 0.0], np.float32)
    want = _np_loss("bce_logits", t[:, None], np.asarray(logits)).mean()
    np.testing.assert_allclose(float(losses.BinaryCrossentropy()(t, probs)), want, rtol=1e-6)


def test_sparse_labels_either_rank():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(5, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2])
    for from_logits in (False, True):
        p = scores if from_logits else np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
        a = float(losses.SparseCategoricalCrossentropy(from_logits=from_logits)(labels, p))
        b = float(losses.SparseCategoricalCrossentropy(from_logits=from_logits)(labels[:, None], p))
        assert a == b
    m1, m2 = metrics.SparseCategoricalAccuracy(), metrics.SparseCategoricalAccuracy()
    m1.update_state(labels, scores)
    m2.update_state(labels[:, None], scores)
    assert m1.result() == m2.result() == np.mean(labels == scores.argmax(-1))


@pytest.mark.parametrize("make,ref", [
    (metrics.BinaryAccuracy, lambda t, p: np.mean((p[:, 0] > 0.5) == (t > 0.5))),
    (metrics.Accuracy, lambda t, p: np.mean(np.round(p[:, 0]) == t)),
    (metrics.MeanSquaredError, lambda t, p: np.mean((p[:, 0] - t) ** 2)),
    (metrics.MeanAbsoluteError, lambda t, p: np.mean(np.abs(p[:, 0] - t))),
    (metrics.Precision, lambda t, p: np.sum((p[:, 0] > 0.5) & (t > 0.5)) / np.sum(p[:, 0] > 0.5)),
    (metrics.Recall, lambda t, p: np.sum((p[:, 0] > 0.5) & (t > 0.5)) / np.sum(t > 0.5)),
])
def test_metric_1d_targets_equal_2d_targets(make, ref):
    t, p = _binary_data(n=9, seed=3)
    if make is metrics.Accuracy:
        p = np.round(p)
    results = []
    for target in (t, t[:, None]):
        m = make()
        m.update_state(target, p)
        results.append(m.result())
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=0)
    np.testing.assert_allclose(results[0], ref(t, p), rtol=1e-6)


def test_accuracy_weighted_keras():
    # Keras: accuracy_metrics_test.py::AccuracyTest
    y_true, y_pred = np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [4]])
    cases = [
        (y_true, y_pred, None, 0.75),
        (y_true, y_pred, np.array([1, 1, 0, 0]), 0.5),                  # (n, 1) values, (n,) weights
        (y_true[:, 0], y_pred[:, 0], np.array([1, 1, 0, 0]), 0.5),      # test_weighted_rank_1
        (np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 4]]), np.array([[1, 0], [0, 1]]), 0.5),
        (np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 4]]), np.array([[1, 0]]), 0.5),
    ]
    for t, p, w, want in cases:
        m = metrics.Accuracy()
        m.update_state(t, p, sample_weight=w)
        np.testing.assert_allclose(m.result(), want, atol=1e-6)


def test_binary_accuracy_broadcast_and_weighted_keras():
    # Keras: accuracy_metrics_test.py::BinaryAccuracyTest.test_unweighted / test_weighted
    y_pred = np.array([[0.98], [1], [0], [0.6]])
    for t in (np.array([[1], [1], [0], [0]]), np.array([1, 1, 0, 0])):
        m = metrics.BinaryAccuracy()
        m.update_state(t, y_pred)
        np.testing.assert_allclose(m.result(), 0.75, atol=1e-6)
        m = metrics.BinaryAccuracy()
        m.update_state(t, y_pred, sample_weight=np.array([1, 0, 0, 1]))
        np.testing.assert_allclose(m.result(), 0.5, atol=1e-6)


@pytest.mark.parametrize("call,op,shapes", [
    (lambda: losses.CategoricalCrossentropy()(np.zeros((3, 1)), np.full((3, 3), 1 / 3)),
     "categorical_crossentropy", ("(3, 1)", "(3, 3)")),
    (lambda: losses.CategoricalCrossentropy(from_logits=True)(np.zeros((3, 1)), np.zeros((3, 3))),
     "categorical_crossentropy", ("(3, 1)", "(3, 3)")),
    (lambda: losses.BinaryCrossentropy()(np.zeros((4, 2)), np.full((4, 3), 0.5)),
     "binary_crossentropy", ("(4, 2)", "(4, 3)")),
    (lambda: losses.mean_squared_error(np.zeros((3, 2)), np.zeros((3, 4))),
     "mean_squared_error", ("(3, 2)", "(3, 4)")),
    (lambda: losses.SparseCategoricalCrossentropy()(np.zeros((3, 2)), np.full((3, 4), 0.25)),
     "sparse_categorical_crossentropy", ("(3, 2)", "(3, 4)")),
    (lambda: losses.sparse_categorical_crossentropy(np.zeros(5), np.full((3, 4), 0.25)),
     "sparse_categorical_crossentropy", ("(5,)", "(3, 4)")),
    (lambda: metrics.BinaryAccuracy()(np.zeros((3, 2)), np.zeros((3, 4))),
     "binary_accuracy", ("(3, 2)", "(3, 4)")),
    (lambda: metrics.CategoricalAccuracy()(np.zeros((3, 1)), np.zeros((3, 4))),
     "categorical_accuracy", ("(3, 1)", "(3, 4)")),
])
def test_shape_mismatch_names_op_and_shapes(call, op, shapes):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert op in msg and all(s in msg for s in shapes), msg


def test_built_dense_rejects_wrong_width():
    d = layers.Dense(3, name="head")
    d(pynn.ones((2, 4)))
    with pytest.raises(ValueError) as info:
        d(pynn.ones((2, 5)))
    msg = str(info.value)
    assert "head" in msg and "(2, 5)" in msg and "(4, 3)" in msg


def _imdb_like(n, words=200, seed=0):
    """Multi-hot 'reviews' whose label is decided by a few 'positive' and 'negative' words."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, words)) < 0.1).astype(np.float32)
    score = x[:, :10].sum(1) - x[:, 10:20].sum(1) + 0.5  # no ties: the label is learnable
    return x, (score > 0).astype(np.float32)  # 1-D targets, as the book loads them


def test_imdb_style_binary_classifier_with_1d_targets_learns():
    pynn.random.seed(0)
    x, y = _imdb_like(3000)
    model = pynn.Sequential([layers.Input(shape=(x.shape[1],)), layers.Dense(16, activation="relu"),
                             layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:2000], y[:2000], epochs=10, batch_size=32, validation_data=(x[2000:], y[2000:]),
                        verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9, history.history
    loss, acc = model.evaluate(x[2000:], y[2000:], verbose=0)
    p = model.predict(x[2000:], verbose=0)[:, 0]
    np.testing.assert_allclose(acc, np.mean((p > 0.5) == (y[2000:] > 0.5)), atol=1e-6)
    np.testing.assert_allclose(loss, _np_loss("bce", y[2000:, None], p[:, None]).mean(), rtol=1e-4)


def test_regression_with_1d_targets_and_mae_metric_learns():
    pynn.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 13)).astype(np.float32)
    y = (x @ rng.normal(size=13) + 22.0 + 0.1 * rng.normal(size=600)).astype(np.float32)  # (n,)
    model = pynn.Sequential([layers.Input(shape=(13,)), layers.Dense(64, activation="relu"),
                             layers.Dense(64, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    history = model.fit(x[:500], y[:500], epochs=60, batch_size=16, verbose=0)
    mse, mae = model.evaluate(x[500:], y[500:], verbose=0)
    p = model.predict(x[500:], verbose=0)[:, 0]
    np.testing.assert_allclose(mae, np.mean(np.abs(p - y[500:])), rtol=1e-4)
    np.testing.assert_allclose(mse, np.mean((p - y[500:]) ** 2), rtol=1e-4)
    assert mae < 0.35 * np.std(y), (mae, np.std(y))  # predicting the mean gives ~0.8 std
    assert history.history["mean_absolute_error"][-1] < history.history["mean_absolute_error"][0]


def test_cross_entropies_read_only_the_logits_of_their_own_activation():
    # Note [Logits behind probabilities]: a sigmoid output given to a categorical cross-entropy
    # (or a softmax output to a binary one) is computed from the probabilities, as Keras does.
    x = pynn.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], np.float32)
    sig, soft = pynn.activations.sigmoid(x), pynn.activations.softmax(x)
    for loss, out in ((losses.CategoricalCrossentropy(), sig), (losses.BinaryCrossentropy(), soft)):
        p = np.asarray(out).astype(np.float64)
        if isinstance(loss, losses.CategoricalCrossentropy):
            q = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
            want = np.mean(-np.sum(t * np.log(q), -1))
        else:
            want = _np_loss("bce", t, p).mean()
        np.testing.assert_allclose(float(loss(t, out)), want, rtol=1e-5)
    # ... and their own activation's logits still take the fused kernels
    np.testing.assert_allclose(float(losses.BinaryCrossentropy()(t, sig)),
                               _np_loss("bce_logits", t, np.asarray(x)).mean(), rtol=1e-6)
