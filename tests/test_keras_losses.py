"""Losses against the numbers Keras 3 states in keras/src/losses/losses_test.py and loss_test.py
(our own tests; the expected values are Keras'), plus float64 NumPy references over random
inputs, sample weights of several ranks and both target ranks."""

import numpy as np
import pytest

import pynn
from pynn import losses

from oracle import assert_same_state, captured_and_eager

YT = np.array([[1, 9, 2], [-5, -2, 6]])
YP = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
TS_T = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
TS_P = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
TS_W = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3))
SW = np.array([[1.2], [3.4]])


def close(got, want, tol=1e-3):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=tol, atol=tol)


# (class, y_true, y_pred, sample_weight, expected) for the default reduction
KERAS_CASES = {
    "mse unweighted": (losses.MeanSquaredError, YT, YP, None, 49.5),
    "mse scalar": (losses.MeanSquaredError, YT, YP, 2.3, 113.85),
    "mse sample": (losses.MeanSquaredError, YT, YP, SW, 767.8 / 6),
    "mse timestep": (losses.MeanSquaredError, TS_T, TS_P, TS_W, 97.833336),
    "mse zero": (losses.MeanSquaredError, YT, YP, 0, 0.0),
    "mae unweighted": (losses.MeanAbsoluteError, YT, YP, None, 5.5),
    "mae scalar": (losses.MeanAbsoluteError, YT, YP, 2.3, 12.65),
    "mae sample": (losses.MeanAbsoluteError, YT, YP, SW, 81.4 / 6),
    "mae timestep": (losses.MeanAbsoluteError, TS_T, TS_P, TS_W, 13.833333),
    "mape unweighted": (losses.MeanAbsolutePercentageError, YT, YP, None, 211.8518),
    "mape scalar": (losses.MeanAbsolutePercentageError, YT, YP, 2.3, 487.259),
    "mape sample": (losses.MeanAbsolutePercentageError, YT, YP, SW, 422.8888),
    "mape timestep": (losses.MeanAbsolutePercentageError, TS_T, TS_P, TS_W, 694.4444),
    "msle unweighted": (losses.MeanSquaredLogarithmicError, YT, YP, None, 1.4370),
    "msle scalar": (losses.MeanSquaredLogarithmicError, YT, YP, 2.3, 3.3051),
    "msle sample": (losses.MeanSquaredLogarithmicError, YT, YP, SW, 3.7856),
    "msle timestep": (losses.MeanSquaredLogarithmicError, TS_T, TS_P, TS_W, 2.647374),
    "bce unweighted": (losses.BinaryCrossentropy, np.eye(3, dtype="float32"),
                       np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]], "float32"), None, 0.20046903),
    "bce saturated": (losses.BinaryCrossentropy, np.array([1, 0, 1, 0]).reshape(2, 2),
                      np.array([1, 1, 1, 0], "float32").reshape(2, 2), None, 3.98559),
    "bce scalar": (losses.BinaryCrossentropy, np.array([1, 0, 1, 0]).reshape(2, 2),
                   np.array([1, 1, 1, 0], "float32").reshape(2, 2), 2.3, 9.1668),
    "bce sample": (losses.BinaryCrossentropy, np.array([1, 0, 1, 0]).reshape(2, 2),
                   np.array([1, 1, 1, 0], "float32").reshape(2, 2), SW, 4.7827),
    "cce unweighted": (losses.CategoricalCrossentropy, np.eye(3, dtype="int64"),
                       np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"), None, 0.3239),
    "cce scalar": (losses.CategoricalCrossentropy, np.eye(3, dtype="int64"),
                   np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"), 2.3, 0.7449),
    "cce sample": (losses.CategoricalCrossentropy, np.eye(3, dtype="int64"),
                   np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"),
                   np.array([[1.2], [3.4], [5.6]]), 1.0696),
    "scce unweighted": (losses.SparseCategoricalCrossentropy, np.array([0, 1, 2]),
                        np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"), None, 0.3239),
    "scce scalar": (losses.SparseCategoricalCrossentropy, np.array([[0], [1], [2]]),
                    np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"), 2.3, 0.7449),
    "scce sample": (losses.SparseCategoricalCrossentropy, np.array([[0], [1], [2]]),
                    np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"),
                    np.array([[1.2], [3.4], [5.6]]), 1.0696),
    "bfce unweighted": (lambda: losses.BinaryFocalCrossentropy(gamma=2.0), np.array([1, 0, 1, 0]).reshape(2, 2),
                        np.array([0.9, 0.8, 0.7, 0.2], "float32").reshape(2, 2), None, 0.268),
    "bfce scalar": (lambda: losses.BinaryFocalCrossentropy(gamma=2.0), np.array([1, 0, 1, 0]).reshape(2, 2),
                    np.array([0.9, 0.8, 0.7, 0.2], "float32").reshape(2, 2), 1.23, 0.3296),
    "bfce sample": (lambda: losses.BinaryFocalCrossentropy(gamma=2.0), np.array([1, 0, 1, 0]).reshape(2, 2),
                    np.array([0.9, 0.8, 0.7, 0.2], "float32").reshape(2, 2), SW, 0.34415),
    "bfce logits": (lambda: losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True),
                    np.array([[1, 1, 0], [0, 1, 0]], "float32"), np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]]),
                    None, 0.799),
    "bfce logits scalar": (lambda: losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True),
                           np.array([[1, 1, 0], [0, 1, 0]], "float32"),
                           np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]]), 3.21, 2.565),
    "bfce logits sample": (lambda: losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True),
                           np.array([[1, 1, 0], [0, 1, 0]], "float32"),
                           np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]]), SW, 0.95977),
    "cfce unweighted": (losses.CategoricalFocalCrossentropy, np.eye(3, dtype="int64"),
                        np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"), None,
                        0.02059),
    "cfce logits": (lambda: losses.CategoricalFocalCrossentropy(from_logits=True), np.eye(3),
                    np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]]), None, 0.000345),
    "cfce scalar": (losses.CategoricalFocalCrossentropy, np.eye(3, dtype="int64"),
                    np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"), 2.3, 0.047368),
    "cfce sample": (losses.CategoricalFocalCrossentropy, np.eye(3, dtype="int64"),
                    np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], "float32"),
                    np.array([[1.2], [3.4], [5.6]]), 0.06987),
    "cfce label smoothing": (lambda: losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1),
                             np.array([[1, 0, 0]]), np.array([[4.9, -0.5, 2.05]]), None, 0.06685),
    "dice": (losses.Dice, np.array([[1, 2], [1, 2]]), np.array([[4, 1], [6, 1]]), None, -0.55555546),
    "dice segmentation": (losses.Dice, np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]),
                          np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]]), None, 0.77777773),
    "tversky": (losses.Tversky, np.array([[1, 2], [1, 2]]), np.array([[4, 1], [6, 1]]), None, -0.55555558),
    "tversky coefficients": (lambda: losses.Tversky(alpha=0.2, beta=0.8), np.array([[1, 2], [1, 2]]),
                             np.array([[4, 1], [6, 1]]), None, -0.94444442),
    "tversky segmentation": (lambda: losses.Tversky(alpha=0.2, beta=0.8),
                             np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]),
                             np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]]), None, 0.76190472),
    "hinge": (losses.Hinge, np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]]), None, 1.3),
    "hinge weighted": (losses.Hinge, np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]]),
                       [1, 0], 0.55),
    "squared hinge": (losses.SquaredHinge, np.array([[0.0, 1.0], [0.0, 0.0]]),
                      np.array([[0.6, 0.4], [0.4, 0.6]]), None, 1.86),
    "squared hinge weighted": (losses.SquaredHinge, np.array([[0.0, 1.0], [0.0, 0.0]]),
                               np.array([[0.6, 0.4], [0.4, 0.6]]), [1, 0], 0.73),
    "categorical hinge": (losses.CategoricalHinge, np.array([[0.0, 1.0], [0.0, 0.0]]),
                          np.array([[0.6, 0.4], [0.4, 0.6]]), None, 1.4),
    "categorical hinge weighted": (losses.CategoricalHinge, np.array([[0.0, 1.0], [0.0, 0.0]]),
                                   np.array([[0.6, 0.4], [0.4, 0.6]]), [1, 0], 0.6),
}

LOGITS3 = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
BCE_T = np.array([[1, 0, 1], [0, 1, 1]])
BCE_L = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
KERAS_CASES.update({
    "bce logits": (lambda: losses.BinaryCrossentropy(from_logits=True), BCE_T, BCE_L, None, 3.3333),
    "bce logits scalar": (lambda: losses.BinaryCrossentropy(from_logits=True), BCE_T, BCE_L, 2.3, 7.666),
    "bce logits sample": (lambda: losses.BinaryCrossentropy(from_logits=True), BCE_T, BCE_L, np.array([4, 3]), 10.0),
    "bce label smoothing": (lambda: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                            np.array([[1, 0, 1]]), np.array([[10.0, -10.0, -10.0]]), None, (10.0 + 5.0 * 0.1) / 3),
    "cce logits": (lambda: losses.CategoricalCrossentropy(from_logits=True), np.eye(3), LOGITS3, None, 0.0573),
    "cce logits scalar": (lambda: losses.CategoricalCrossentropy(from_logits=True), np.eye(3), LOGITS3, 2.3, 0.1317),
    "cce logits sample": (lambda: losses.CategoricalCrossentropy(from_logits=True), np.eye(3), LOGITS3,
                          np.array([[1.2], [3.4], [5.6]]), 0.31829),
    "cce label smoothing": (lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                            np.array([[1, 0, 0]]), np.array([[100.0, -100.0, -100.0]]), None, 400.0 * 0.1 / 3),
    "scce logits": (lambda: losses.SparseCategoricalCrossentropy(from_logits=True), np.array([0, 1, 2]), LOGITS3,
                    None, 0.0573),
    "scce logits scalar": (lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
                           np.array([[0], [1], [2]]), LOGITS3, 2.3, 0.1317),
    "scce logits sample": (lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
                           np.array([[0], [1], [2]]), LOGITS3, np.array([[1.2], [3.4], [5.6]]), 0.31829),
    "gce binary": (losses.CategoricalGeneralizedCrossEntropy, np.array([0, 1, 0, 1]),
                   np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]), None,
                   np.mean((1 - np.sqrt([0.7, 0.8, 0.6, 0.6])) / 0.5)),
    "gce multi q=0.8": (lambda: losses.CategoricalGeneralizedCrossEntropy(q=0.8), np.array([0, 1, 0, 1]),
                        np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6], [0.6, 0.4, 0.0], [0.2, 0.2, 0.6]]), None,
                        np.mean((1 - np.power([0.7, 0.2, 0.6, 0.2], 0.8)) / 0.8)),
})


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_keras_numbers(case):
    make, t, p, w, want = KERAS_CASES[case]
    close(make()(t, p, sample_weight=w), want)


def test_reductions_keras_numbers():
    close(losses.MeanSquaredError(reduction=None)(YT, YP, sample_weight=2.3), [84.3333, 143.3666])
    close(losses.MeanSquaredError(reduction="sum")(YT, YP, sample_weight=2.3), 227.69998)
    close(losses.MeanSquaredError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=SW),
          (110 / 3 * 1.2 + 187 / 3 * 3.4) / (1.2 + 3.4))
    close(losses.MeanAbsolutePercentageError(reduction=None)(YT, YP, sample_weight=2.3), [621.8518, 352.6666])
    close(losses.MeanAbsolutePercentageError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=SW), 183.865)
    close(losses.MeanSquaredLogarithmicError(reduction="mean_with_sample_weight")(YT, YP, sample_weight=SW), 1.646)
    close(losses.MeanAbsoluteError(reduction="sum")(YT, YP, sample_weight=2.3), 25.29999)
    close(losses.MeanAbsoluteError(reduction="mean")(YT, YP), 5.5)
    close(losses.Hinge(reduction="sum")(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])), 2.6)
    close(losses.Hinge(reduction=None)(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]]),
                                       sample_weight=[1, 0]), [1.1, 0.0])
    close(losses.SquaredHinge(reduction=None)(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])),
          [1.46, 2.26])
    close(losses.CategoricalHinge(reduction=None)(np.array([[0.0, 1.0], [0.0, 0.0]]),
                                                  np.array([[0.6, 0.4], [0.4, 0.6]])), [1.2, 1.6])
    close(losses.BinaryCrossentropy(from_logits=True, reduction=None)(BCE_T, BCE_L), [0.0, 6.666])
    close(losses.CategoricalCrossentropy(from_logits=True, reduction=None)(np.eye(3), LOGITS3),
          [0.001822, 0.000459, 0.169846], tol=1e-5)
    close(losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(np.array([[0], [1], [2]]), LOGITS3),
          [0.001822, 0.000459, 0.169846], tol=1e-5)
    close(losses.BinaryFocalCrossentropy(gamma=2.0, reduction=None)(
        np.array([1, 0, 1, 0]).reshape(2, 2), np.array([0.9, 0.8, 0.7, 0.2], "float32").reshape(2, 2)),
        [0.515547, 0.020513], tol=1e-5)
    close(losses.CategoricalFocalCrossentropy(from_logits=True, reduction=None)(np.eye(3), LOGITS3),
          [1.5096224e-09, 2.4136547e-11, 1.0360638e-03], tol=1e-8)
    seg_t = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    seg_p = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    close(losses.Dice(axis=(1, 2, 3), reduction=None)(seg_t, seg_p), [0.5, 0.75757575])
    close(losses.Tversky(axis=(1, 2, 3), reduction=None)(seg_t, seg_p), [0.5, 0.75757575])
    close(losses.Tversky(alpha=0.2, beta=0.8, axis=(1, 2, 3), reduction=None)(seg_t, seg_p), [0.5, 0.78494626])
    with pytest.raises(ValueError, match="invalid reduction"):
        losses.Hinge(reduction="abc")


def test_keras_loss_base_weights():
    # Keras: loss_test.py::test_sample_weight, test_mixed_dtypes, test_rank_adjustment (sample_weight and ys)
    w = np.array([0.4, 0.3, 0.2, 0.1])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.1, 0.2, 0.3, 0.4])
    want = np.sum(w * (t - p) ** 2) / 4

    def example(y_true, y_pred):  # Keras' ExampleLoss: the squared error, element-wise
        return pynn.square(pynn.subtract(y_true, y_pred))

    loss = losses.LossFunctionWrapper(example, name="example")
    close(loss(t, p, sample_weight=w), want, 1e-12)
    assert float(loss(t, p, sample_weight=np.zeros(4))) == 0.0
    close(loss(t.astype("int32"), p.astype("float32"), sample_weight=w), want, 1e-6)
    close(loss(t, p, sample_weight=w[:, None]), want, 1e-12)
    close(loss(t[:, None], p[:, None], sample_weight=w), want, 1e-12)
    with pytest.raises(ValueError, match="example: sample_weight of shape \\(3,\\)"):
        loss(t, p, sample_weight=np.ones(3))


def test_keras_label_smoothing_and_axis():
    t = np.array([[[1, 0], [0, 1], [0, 0]], [[0, 1], [1, 0], [0, 0]]], dtype="float32")
    p = np.array([[[0.8, 0.1], [0.1, 0.8], [0.1, 0.1]], [[0.1, 0.8], [0.8, 0.1], [0.1, 0.1]]], dtype="float32")
    ts = t * 0.9 + 0.1 / 3
    close(losses.CategoricalCrossentropy(label_smoothing=0.1, axis=1)(t, p), np.mean(-np.sum(ts * np.log(p), 1)), 1e-5)
    focal = 0.25 * (1 - p) ** 2 * -ts * np.log(p)
    close(losses.CategoricalFocalCrossentropy(label_smoothing=0.1, axis=1)(t, p), np.mean(np.sum(focal, 1)), 1e-5)
    # the function forms take the same options
    close(losses.binary_crossentropy(np.array([[1, 0, 1]]), np.array([[10.0, -10.0, -10.0]]), from_logits=True,
                                     label_smoothing=0.1), [3.5])
    close(losses.categorical_crossentropy(np.array([[1, 0, 0]]), np.array([[100.0, -100.0, -100.0]]),
                                          from_logits=True, label_smoothing=0.1), [400 * 0.1 / 3])


def test_keras_ignore_class():
    logits = np.array([[[0.854, 0.698, 0.598], [0.088, 0.86, 0.018]]])
    for labels in (np.array([[-1, 2]]), np.array([[[-1], [2]]])):
        loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=None)
        close(loss(labels, logits), [[0.0, 1.480129]], 1e-5)
    # the mean is over the entries that are not ignored (Keras' mask)
    close(losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(np.array([[-1, 2]]), logits),
          1.480129, 1e-5)
    close(losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="sum")(
        np.array([[-1, 2]]), logits), 1.480129, 1e-5)


def test_keras_scce_axis():
    # Keras: test_binary_segmentation_different_axis: classes on axis 1
    y_true = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
    onehot = np.eye(2)[y_true]
    close(losses.SparseCategoricalCrossentropy()(y_true, onehot), 0.0)
    close(losses.SparseCategoricalCrossentropy(axis=1)(y_true, np.transpose(onehot, (0, 2, 1))), 0.0)
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((4, 3, 5))
    labels = rng.integers(0, 3, (4, 5))
    lsm = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    want = -np.take_along_axis(lsm, labels[:, None, :], 1)[:, 0, :]
    close(losses.SparseCategoricalCrossentropy(from_logits=True, axis=1, reduction=None)(labels, logits), want, 1e-10)
    close(losses.sparse_categorical_crossentropy(labels[:, None, :], logits, from_logits=True, axis=1), want, 1e-10)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        losses.sparse_categorical_crossentropy(labels + 1, logits, axis=1)


def test_keras_configs_round_trip():
    assert losses.CosineSimilarity(axis=2, reduction="sum", name="cosine_loss").get_config() == \
        {"name": "cosine_loss", "reduction": "sum", "axis": 2}
    assert losses.Huber(delta=2.0, reduction="sum", name="huber").get_config() == \
        {"name": "huber", "reduction": "sum", "delta": 2.0}
    assert losses.LogCosh(reduction="sum", name="logcosh_loss").get_config() == \
        {"name": "logcosh_loss", "reduction": "sum"}
    cfg = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3, axis=0, name="scce").get_config()
    assert (cfg["from_logits"], cfg["ignore_class"], cfg["axis"]) == (True, 3, 0)
    for cls in losses._CLASSES:
        obj = cls(name="x", dtype="float64")
        again = cls.from_config(obj.get_config())
        assert type(again) is cls and again.get_config() == obj.get_config()
        assert again.dtype == "float64" and again.name == "x"
        assert isinstance(losses.get(pynn.utils.snake_case(cls.__name__)), cls)
        assert isinstance(losses.get(cls.__name__), cls)
    assert losses.Huber().name == "huber_loss"
    assert losses.CategoricalGeneralizedCrossEntropy(q=0.1).get_config()["q"] == 0.1
    with pytest.raises(ValueError, match="q must be in"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    assert isinstance(losses.get("mape"), losses.MeanAbsolutePercentageError)
    assert isinstance(losses.get("msle"), losses.MeanSquaredLogarithmicError)
    assert isinstance(losses.get("logcosh"), losses.LogCosh)
    # positional arguments follow Keras' order
    assert losses.Huber(0.5).kwargs == {"delta": 0.5}
    assert losses.BinaryCrossentropy(True, 0.2).kwargs["label_smoothing"] == 0.2


def test_dtype_casts_the_inputs():
    t, p = np.eye(3), np.full((3, 3), 0.3)
    out = losses.MeanSquaredError(dtype="float32")(t, p)
    assert out.dtype == "float32"
    assert losses.MeanSquaredError()(t, p).dtype == "float64"
    assert losses.Dice()(np.array([[1, 2]]), np.array([[4, 1]])).dtype == "float32"   # integer predictions
    x = pynn.Variable(p)
    with pynn.GradientTape() as tape:
        loss = losses.MeanSquaredError(dtype="float32")(t, x)
    g = tape.gradient(loss, x)
    close(g, 2 * (p - t) / 9, 1e-6)


# ---------------------------------------------------------------- NumPy float64 references

def _np_values(name, t, p, **kw):
    eps = 1e-7
    if name == "mape":
        return 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), eps)), -1)
    if name == "msle":
        return np.mean((np.log(np.maximum(p, eps) + 1) - np.log(np.maximum(t, eps) + 1)) ** 2, -1)
    if name == "logcosh":
        return np.mean(np.log(np.cosh(p - t)), -1)
    if name == "poisson":
        return np.mean(p - t * np.log(p + eps), -1)
    if name == "hinge":
        s = 2 * t - 1
        return np.mean(np.maximum(1 - s * p, 0), -1)
    if name == "squared_hinge":
        s = 2 * t - 1
        return np.mean(np.maximum(1 - s * p, 0) ** 2, -1)
    if name == "bce_smooth":
        ts = t * 0.8 + 0.1
        q = np.clip(p, eps, 1 - eps)
        return np.mean(-(ts * np.log(q) + (1 - ts) * np.log(1 - q)), -1)
    if name == "bfce":
        q = np.clip(p, eps, 1 - eps)
        bce = -(t * np.log(q) + (1 - t) * np.log(1 - q))
        pt = t * p + (1 - t) * (1 - p)
        w = t * 0.3 + (1 - t) * 0.7
        return np.mean(w * (1 - pt) ** 1.5 * bce, -1)
    raise AssertionError(name)


RANDOM = [
    ("mape", lambda: losses.MeanAbsolutePercentageError()),
    ("msle", lambda: losses.MeanSquaredLogarithmicError()),
    ("logcosh", lambda: losses.LogCosh()),
    ("poisson", lambda: losses.Poisson()),
    ("hinge", lambda: losses.Hinge()),
    ("squared_hinge", lambda: losses.SquaredHinge()),
    ("bce_smooth", lambda: losses.BinaryCrossentropy(label_smoothing=0.2)),
    ("bfce", lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5)),
]


@pytest.mark.parametrize("name,make", RANDOM, ids=[r[0] for r in RANDOM])
@pytest.mark.parametrize("weights", [None, "scalar", "rank1", "rank2"])
def test_random_against_numpy(name, make, weights):
    rng = np.random.default_rng(7)
    t = (rng.random((9, 1)) > 0.5).astype(np.float64)
    p = rng.uniform(0.05, 0.95, (9, 1))
    w = {None: None, "scalar": 1.7, "rank1": rng.random(9), "rank2": rng.random((9, 1))}[weights]
    per = _np_values(name, t, p)
    want = per * (1.0 if w is None else np.reshape(w, -1) if np.ndim(w) else w)
    for target in (t, t[:, 0]):   # both target ranks (Note [Target rank])
        close(make()(target, p, sample_weight=w), want.mean(), 1e-10)
        close(make()(target, p, sample_weight=w) if w is None else make()(target, p), per.mean(), 1e-10)


def test_random_probability_path_uses_the_logits_behind_a_softmax():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 4)) * 4
    labels = rng.integers(0, 4, 5)
    probs = pynn.softmax(pynn.tensor(logits))
    probs._keras_logits = pynn.tensor(logits)
    lsm = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    onehot = np.eye(4)[labels]
    smooth = onehot * 0.9 + 0.1 / 4
    w = rng.random(5)
    want = -np.sum(smooth * lsm, 1)
    close(losses.CategoricalCrossentropy(label_smoothing=0.1)(onehot, probs), want.mean(), 1e-10)
    close(losses.CategoricalCrossentropy(label_smoothing=0.1)(onehot, probs, sample_weight=w), (want * w).mean(),
          1e-10)
    close(losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(onehot, logits, sample_weight=w),
          (want * w).mean(), 1e-10)


@pytest.mark.parametrize("make", [
    lambda: losses.LogCosh(), lambda: losses.MeanAbsolutePercentageError(), lambda: losses.MeanSquaredLogarithmicError(),
    lambda: losses.Poisson(), lambda: losses.SquaredHinge(), lambda: losses.Dice(), lambda: losses.Tversky(alpha=0.3),
    lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True),
    lambda: losses.CategoricalFocalCrossentropy(label_smoothing=0.1),
    lambda: losses.BinaryCrossentropy(label_smoothing=0.2, reduction="sum"),
    lambda: losses.CategoricalCrossentropy(label_smoothing=0.1, axis=0),
], ids=["logcosh", "mape", "msle", "poisson", "squared_hinge", "dice", "tversky", "bfce", "cfce", "bce_smooth",
        "cce_axis0"])
def test_new_losses_have_gradients(make):
    rng = np.random.default_rng(9)
    t = (rng.random((4, 3)) > 0.5).astype(np.float64)
    p = rng.uniform(0.1, 0.9, (4, 3))
    loss = make()
    if isinstance(loss, losses.MeanAbsolutePercentageError):
        t = t + 0.5  # away from |y_true| < 1e-7, where the loss is 1e7-steep
    w = None if loss.kwargs.get("axis") == 0 else rng.random(4)
    assert pynn.utils.gradcheck(lambda x: loss(t, x, sample_weight=w), [p])


def test_fused_paths_take_smoothed_targets_and_keep_their_gradient():
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((6, 5))
    onehot = np.eye(5)[rng.integers(0, 5, 6)]
    smooth = onehot * 0.8 + 0.2 / 5
    x = pynn.Variable(logits)
    with pynn.GradientTape() as tape:
        loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(onehot, x)
    e = np.exp(logits - logits.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    close(loss, np.mean(-np.sum(smooth * np.log(sm), 1)), 1e-12)
    close(tape.gradient(loss, x), (sm - smooth) / 6, 1e-12)
    b = pynn.Variable(logits)
    with pynn.GradientTape() as tape:
        loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(onehot, b)
    st = onehot * 0.8 + 0.1
    sig = 1 / (1 + np.exp(-logits))
    close(loss, np.mean(np.maximum(logits, 0) - logits * st + np.log1p(np.exp(-np.abs(logits)))), 1e-12)
    close(tape.gradient(loss, b), (sig - st) / logits.size, 1e-12)


@pytest.mark.parametrize("loss", [
    losses.SparseCategoricalCrossentropy(from_logits=True),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1),
    losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float32"),
    losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
    losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
], ids=["plain", "ignore-class", "dtype", "sum", "label-smoothing"])
def test_every_loss_option_trains_the_same_captured(loss):
    from pynn import layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    y = np.arange(40) % 3
    if isinstance(loss, losses.CategoricalCrossentropy):
        y = np.eye(3, dtype="float32")[y]

    def make(**options):
        model = pynn.Sequential([layers.Input(shape=(3,)), layers.Dense(3)])
        model.compile(optimizer="sgd", loss=loss, **options)
        return model

    (ha, a), (hb, b) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=16, epochs=3, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)


def test_keras_segmentation_cases():
    y_true = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
    perfect = np.eye(2)[y_true]
    close(losses.CategoricalGeneralizedCrossEntropy(q=0.5)(y_true, perfect), 0.0, 1e-7)
    close(losses.SparseCategoricalCrossentropy()(y_true, perfect), 0.0, 1e-5)
    close(losses.SparseCategoricalCrossentropy(axis=1)(y_true, np.transpose(perfect, (0, 2, 1))), 0.0, 1e-5)
    soft = perfect.copy()
    soft[0, 3] = [0.2, 0.8]
    soft[3, 3] = [0.6, 0.4]
    want = ((1 - np.sqrt(0.2)) / 0.5 + (1 - np.sqrt(0.4)) / 0.5) / 16.0   # 16 pixels
    close(losses.CategoricalGeneralizedCrossEntropy(q=0.5)(y_true, soft), want, 1e-6)


def test_keras_weight_ranks_on_formula_losses():
    # Keras' Huber / LogCosh / KLDivergence / Poisson / CosineSimilarity tests: scalar, (2, 1) and
    # timestep (2, 3[, 1]) weights on (2, 3) or (2, 3, 1) data
    hp = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
    ht = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])

    def huber(t, p, d=1.0):
        a = np.abs(p - t)
        q = np.minimum(a, d)
        return 0.5 * q * q + d * (a - q)

    close(losses.Huber()(ht, hp, sample_weight=2.3), 2.3 * huber(ht, hp).sum() / 6)
    close(losses.Huber()(ht, hp, sample_weight=np.array([[1.2], [3.4]])),
          np.sum(huber(ht, hp) * np.repeat([[1.2], [3.4]], 3, 1)) / 6)
    tw = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3, 1))
    close(losses.Huber()(ht.reshape(2, 3, 1), hp.reshape(2, 3, 1), sample_weight=tw),
          np.sum(huber(ht, hp).reshape(2, 3, 1) * tw) / 6)
    close(losses.Huber(delta=0.8)(ht, hp, sample_weight=2.3), 2.3 * huber(ht, hp, 0.8).sum() / 6)
    t = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
    p = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)
    e = (p - t).astype(np.float64)
    lc = np.log((np.exp(e) + np.exp(-e)) / 2)
    close(losses.LogCosh()(t, p, sample_weight=np.asarray([1.2, 3.4])), np.sum(lc * np.repeat([[1.2], [3.4]], 3, 1)) / 6)
    close(losses.LogCosh()(t.reshape(2, 3, 1), p.reshape(2, 3, 1), sample_weight=tw), np.sum(lc.reshape(2, 3, 1) * tw) / 6)
    kp = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype=np.float32).reshape((2, 3))
    kt = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype=np.float32).reshape((2, 3))
    kl = kt * np.log(kt / kp)
    close(losses.KLDivergence()(kt, kp, sample_weight=2.3), 2.3 * kl.sum() / 2)
    kw = np.asarray([3, 6, 5, 0, 4, 2]).reshape(2, 3)
    close(losses.KLDivergence()(kt.reshape(2, 3, 1), kp.reshape(2, 3, 1), sample_weight=kw), np.sum(kl * kw) / 6)
    pp = np.asarray([1, 9, 2, 5, 2, 6], dtype=np.float32).reshape((2, 3))
    pt = np.asarray([4, 8, 12, 8, 1, 3], dtype=np.float32).reshape((2, 3))
    po = pp - pt * np.log(pp)
    close(losses.Poisson()(pt, pp, sample_weight=np.asarray([1.2, 3.4]).reshape((2, 1))),
          np.sum(po * np.repeat([[1.2], [3.4]], 3, 1)) / 6)
    close(losses.Poisson()(pt.reshape(2, 3, 1), pp.reshape(2, 3, 1), sample_weight=kw), np.sum(po * kw) / 6)
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    pn = p / np.linalg.norm(p, axis=1, keepdims=True)
    cos = np.sum(tn * pn, axis=1)
    close(losses.CosineSimilarity()(t, p, sample_weight=np.asarray([1.2, 3.4])), -np.mean(cos * [1.2, 3.4]))
    t3, p3 = t.reshape(2, 3, 1), p.reshape(2, 3, 1)
    cos3 = np.sum(t3 / np.abs(t3) * p3 / np.abs(p3), axis=2)
    close(losses.CosineSimilarity()(t3, p3, sample_weight=kw), -np.mean(cos3 * kw))
    close(losses.CosineSimilarity(axis=1)(t, p), -np.mean(cos))
