"""Metrics against the numbers Keras 3 states in keras/src/metrics/*_test.py (our own tests;
the expected values are Keras'), plus float64 NumPy references over random inputs, sample
weights and both target ranks."""

import json

import numpy as np
import pytest

import pynn
from pynn import metrics

YT5 = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
YP5 = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])
W4 = np.array([1.0, 1.5, 2.0, 2.5])


def close(got, want, tol=1e-3):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=tol, atol=tol)


def once(metric, *args, **kw):
    metric.update_state(*args, **kw)
    return metric.result()


# (metric, y_true, y_pred, sample_weight, expected) -- Keras' test files
CASES = {
    # reduction_metrics_test
    "mean wrapper": (lambda: metrics.MeanMetricWrapper(lambda t, p: (pynn.tensor(t) - pynn.tensor(p)) ** 2),
                     YT5, YP5, None, 0.5),
    "mean wrapper weighted": (lambda: metrics.MeanMetricWrapper(
        lambda t, p: (pynn.tensor(t) - pynn.tensor(p)) ** 2), YT5, YP5, W4, 0.54285),
    "mean wrapper broadcast": (lambda: metrics.MeanMetricWrapper(
        lambda t, p: (pynn.tensor(t) - pynn.tensor(p)) ** 2), YT5, YP5, np.array([[1.0, 0.0, 0.5, 0.0, 1.0]]), 0.45),
    # accuracy_metrics_test
    "accuracy": (lambda: metrics.Accuracy("accuracy", dtype="float32"), np.array([[1], [2], [3], [4]]),
                 np.array([[0], [2], [3], [4]]), None, 0.75),
    "accuracy weighted": (lambda: metrics.Accuracy(dtype="float32"), np.array([[1], [2], [3], [4]]),
                          np.array([[0], [2], [3], [4]]), np.array([1, 1, 0, 0]), 0.5),
    "accuracy rank 1": (metrics.Accuracy, np.array([1, 2, 3, 4]), np.array([0, 2, 3, 4]), np.array([1, 1, 0, 0]), 0.5),
    "accuracy nd weights": (metrics.Accuracy, np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 4]]),
                            np.array([[1, 0], [0, 1]]), 0.5),
    "accuracy nd broadcast": (metrics.Accuracy, np.array([[1, 2], [3, 4]]), np.array([[0, 2], [3, 4]]),
                              np.array([[1, 0]]), 0.5),
    "binary accuracy": (lambda: metrics.BinaryAccuracy("binary_accuracy", "float32"), np.array([[1], [1], [0], [0]]),
                        np.array([[0.98], [1], [0], [0.6]]), None, 0.75),
    "binary accuracy rank 1 target": (metrics.BinaryAccuracy, np.array([1, 1, 0, 0]),
                                      np.array([[0.98], [1], [0], [0.6]]), None, 0.75),
    "binary accuracy weighted": (metrics.BinaryAccuracy, np.array([[1], [1], [0], [0]]),
                                 np.array([[0.98], [1], [0], [0.6]]), np.array([1, 0, 0, 1]), 0.5),
    "binary accuracy nd weights": (metrics.BinaryAccuracy, np.array([[1, 1], [0, 0]]), np.array([[0.98, 1], [0, 0.6]]),
                                   np.array([[1, 0], [0, 1]]), 0.5),
    "binary accuracy nd broadcast": (metrics.BinaryAccuracy, np.array([[1, 1], [0, 0]]),
                                     np.array([[0.98, 1], [0, 0.6]]), np.array([[1, 0]]), 1.0),
    "binary accuracy threshold 0.3": (lambda: metrics.BinaryAccuracy(threshold=0.3), np.array([[1], [1], [0], [0]]),
                                      np.array([[0.98], [0.5], [0.1], [0.2]]), None, 1.0),
    "binary accuracy threshold 0.9": (lambda: metrics.BinaryAccuracy(threshold=0.9), np.array([[1], [1], [0], [0]]),
                                      np.array([[0.98], [0.5], [0.1], [0.2]]), None, 0.75),
    "categorical accuracy": (metrics.CategoricalAccuracy, np.array([[0, 0, 1], [0, 1, 0]]),
                             np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]), None, 0.5),
    "categorical accuracy weighted": (metrics.CategoricalAccuracy, np.array([[0, 0, 1], [0, 1, 0]]),
                                      np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]), np.array([0.7, 0.3]), 0.3),
    "sparse categorical accuracy": (metrics.SparseCategoricalAccuracy, np.array([[2], [1]]),
                                    np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]), None, 0.5),
    "sparse categorical accuracy weighted": (metrics.SparseCategoricalAccuracy, np.array([[2], [1]]),
                                             np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]), np.array([0.7, 0.3]), 0.3),
    "sparse categorical accuracy int32 / float64": (metrics.SparseCategoricalAccuracy,
                                                    np.array([0, 1, 2], dtype=np.int32),
                                                    np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]]),
                                                    None, 1.0),
    "top k": (lambda: metrics.TopKCategoricalAccuracy(k=1), np.array([[0, 0, 1], [0, 1, 0]]),
              np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], "float32"), None, 0.5),
    "top k weighted": (lambda: metrics.TopKCategoricalAccuracy(k=1), np.array([[0, 0, 1], [0, 1, 0]]),
                       np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], "float32"), np.array([0.7, 0.3]), 0.3),
    "sparse top k": (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), np.array([2, 1]),
                     np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], "float32"), None, 0.5),
    "sparse top k weighted": (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), np.array([2, 1]),
                              np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], "float32"), np.array([0.7, 0.3]), 0.3),
    "sparse top k sorted ids": (lambda: metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True),
                                np.array([2, 1]), np.array([[1, 0, 3], [1, 2, 3]]), None, 0.5),
    "sparse top k sorted ids weighted": (lambda: metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True),
                                         np.array([2, 1]), np.array([[1, 0, 3], [1, 2, 3]]), np.array([0.7, 0.3]),
                                         0.3),
    # regression_metrics_test
    "mse": (metrics.MeanSquaredError, YT5, YP5, None, 0.5),
    "mse weighted": (metrics.MeanSquaredError, YT5, YP5, W4, 0.54285),
    "mae": (metrics.MeanAbsoluteError, YT5, YP5, None, 0.5),
    "mae weighted": (metrics.MeanAbsoluteError, YT5, YP5, W4, 0.54285),
    "mape": (metrics.MeanAbsolutePercentageError, YT5, YP5.astype("float32"), None, 35e7),
    "mape weighted": (metrics.MeanAbsolutePercentageError, YT5, YP5.astype("float32"), W4, 40e7),
    "msle": (metrics.MeanSquaredLogarithmicError, YT5, YP5, None, 0.24022),
    "msle weighted": (metrics.MeanSquaredLogarithmicError, YT5, YP5, W4, 0.26082),
    "rmse": (metrics.RootMeanSquaredError, np.array([2, 4, 6]), np.array([1, 3, 2]), None, np.sqrt(6)),
    "rmse weighted": (metrics.RootMeanSquaredError, np.array([2, 4, 6, 8]), np.array([1, 3, 2, 3]),
                      np.array([0, 1, 0, 1]), np.sqrt(13)),
    # hinge_metrics_test
    "hinge": (metrics.Hinge, np.array([[0, 1, 0, 1], [0, 0, 1, 1]]),
              np.array([[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]]), None, 0.506),
    "hinge weighted": (metrics.Hinge, np.array([[-1, 1, -1, 1], [-1, -1, 1, 1]]),
                       np.array([[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]]), np.array([1.5, 2.0]), 0.493),
    "squared hinge": (metrics.SquaredHinge, np.array([[0, 1, 0, 1], [0, 0, 1, 1]], dtype="float32"),
                      np.array([[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]], dtype="float32"), None, 0.364),
    "squared hinge weighted": (metrics.SquaredHinge, np.array([[-1, 1, -1, 1], [-1, -1, 1, 1]], dtype="float32"),
                               np.array([[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]], dtype="float32"),
                               np.array([1.5, 2.0]), 0.347),
    "categorical hinge": (metrics.CategoricalHinge, YT5, YP5, None, 0.5),
    "categorical hinge weighted": (metrics.CategoricalHinge, YT5, YP5, W4, 0.5),
    # reduction_metrics_test / confusion_metrics_test
    "fp": (metrics.FalsePositives, YT5, YP5, None, 7.0),
    "fp weighted": (metrics.FalsePositives, YT5, YP5, W4, 14.0),
    "fn": (metrics.FalseNegatives, YT5, YP5, None, 3.0),
    "fn weighted": (metrics.FalseNegatives, YT5, YP5, W4, 5.0),
    "tn": (metrics.TrueNegatives, YT5, YP5, None, 3.0),
    "tn weighted": (metrics.TrueNegatives, YT5, YP5, W4, 4.0),
    "tp": (metrics.TruePositives, YT5, YP5, None, 7.0),
    "tp weighted": (metrics.TruePositives, YT5, YP5, W4, 12.0),
}

TH_PRED = np.array([(0.9, 0.2, 0.8, 0.1), (0.2, 0.9, 0.7, 0.6), (0.1, 0.2, 0.4, 0.3), (0, 1, 0.7, 0.3)])
TH_TRUE = np.array([(0, 1, 1, 0), (1, 0, 0, 0), (0, 0, 0, 0), (1, 1, 1, 1)])
TH = [0.15, 0.5, 0.85]
CASES.update({
    "fp thresholds": (lambda: metrics.FalsePositives(thresholds=TH), TH_TRUE, TH_PRED, None, [7.0, 4.0, 2.0]),
    "fp thresholds weighted": (lambda: metrics.FalsePositives(thresholds=TH), TH_TRUE, TH_PRED,
                               ((1.0, 2.0, 3.0, 5.0), (7.0, 11.0, 13.0, 17.0), (19.0, 23.0, 29.0, 31.0),
                                (5.0, 15.0, 10.0, 0)), [125.0, 42.0, 12.0]),
    "fn thresholds": (lambda: metrics.FalseNegatives(thresholds=TH), TH_TRUE, TH_PRED, None, [1.0, 4.0, 6.0]),
    "fn thresholds weighted": (lambda: metrics.FalseNegatives(thresholds=TH), TH_TRUE, TH_PRED,
                               ((3.0,), (5.0,), (7.0,), (4.0,)), [4.0, 16.0, 23.0]),
    "tn thresholds": (lambda: metrics.TrueNegatives(thresholds=TH), TH_TRUE, TH_PRED, None, [2.0, 5.0, 7.0]),
    "tn thresholds weighted": (lambda: metrics.TrueNegatives(thresholds=TH), TH_TRUE, TH_PRED,
                               ((0.0, 2.0, 3.0, 5.0),), [5.0, 15.0, 23.0]),
    "tp thresholds": (lambda: metrics.TruePositives(thresholds=TH), TH_TRUE, TH_PRED, None, [6.0, 3.0, 1.0]),
    "tp thresholds weighted": (lambda: metrics.TruePositives(thresholds=TH), TH_TRUE, TH_PRED, 37.0,
                               [222.0, 111.0, 37.0]),
    "precision": (metrics.Precision, np.array([0, 1, 1, 0]), np.array([1, 0, 1, 0]), None, 0.5),
    "precision weighted": (metrics.Precision, np.array([[0, 1, 1, 0], [1, 0, 0, 1]]),
                           np.array([[1, 0, 1, 0], [1, 0, 1, 0]]), np.array([[1, 2, 3, 4], [4, 3, 2, 1]]),
                           (3.0 + 4.0) / ((1.0 + 3.0) + (4.0 + 2.0))),
    "precision nothing predicted": (metrics.Precision, np.array([0, 0, 0, 0]), np.array([0, 0, 0, 0]), None, 0.0),
    "precision thresholds": (lambda: metrics.Precision(thresholds=[0.5, 0.7]), np.array([0, 1, 1, 0]),
                             np.array([1, 0, 0.6, 0]), None, [0.5, 0.0]),
    "precision thresholds weighted": (lambda: metrics.Precision(thresholds=[0.5, 1.0]), np.array([[0, 1], [1, 0]]),
                                      np.array([[1, 0], [0.6, 0]], "float32"),
                                      np.array([[4, 0], [3, 1]], "float32"), [3.0 / 7.0, 0.0]),
    "precision top k": (lambda: metrics.Precision(top_k=3), np.array([0, 1, 1, 0, 0]),
                        np.array([0.2, 0.1, 0.5, 0, 0.2]), None, 1.0 / 3),
    "precision top k and threshold": (lambda: metrics.Precision(thresholds=0.7, top_k=2),
                                      np.array([0, 1, 1, 0, 1]), np.array([0.2, 0.8, 0.6, 0, 0.2]), None, 1.0),
    "recall": (metrics.Recall, np.array([0, 1, 1, 0]), np.array([1, 0, 1, 0]), None, 0.5),
    "recall weighted": (metrics.Recall, np.array([[0, 1, 1, 0], [1, 0, 0, 1]]), np.array([[1, 0, 1, 0], [0, 1, 0, 1]]),
                        np.array([[1, 2, 3, 4], [4, 3, 2, 1]]), 4.0 / 10.0),
    "recall thresholds": (lambda: metrics.Recall(thresholds=[0.5, 0.7]), np.array([0, 1, 1, 0]),
                          np.array([1, 0, 0.6, 0]), None, [0.5, 0.0]),
    "recall thresholds weighted": (lambda: metrics.Recall(thresholds=[0.5, 1.0]), np.array([[0, 1], [1, 0]]),
                                   np.array([[1, 0], [0.6, 0]], "float32"), np.array([[1, 4], [3, 2]], "float32"),
                                   [3.0 / 7.0, 0.0]),
    "recall top k": (lambda: metrics.Recall(top_k=3), np.array([0, 1, 1, 0, 0]), np.array([0.2, 0.1, 0.5, 0, 0.2]),
                     None, 0.5),
    "recall top k and threshold": (lambda: metrics.Recall(thresholds=0.7, top_k=2), np.array([1, 1, 1, 0, 1]),
                                   np.array([0.2, 0.8, 0.6, 0, 0.2]), None, 0.25),
})

SENS_P = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.01, 0.02, 0.25, 0.26, 0.26], "float32")
SENS_T = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
CASES.update({
    "sensitivity at high specificity": (lambda: metrics.SensitivityAtSpecificity(0.8), SENS_T,
                                        np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.1, 0.45, 0.5, 0.8, 0.9], "float32"),
                                        None, 0.8),
    "sensitivity at low specificity": (lambda: metrics.SensitivityAtSpecificity(0.4), SENS_T, SENS_P, None, 0.6),
    "sensitivity weighted": (lambda: metrics.SensitivityAtSpecificity(0.4), SENS_T, SENS_P, np.arange(1, 11), 0.675),
    "specificity at high sensitivity": (lambda: metrics.SpecificityAtSensitivity(1.0), SENS_T, SENS_P, None, 0.2),
    "specificity at low sensitivity": (lambda: metrics.SpecificityAtSensitivity(0.4), SENS_T, SENS_P, None, 0.6),
    "specificity weighted": (lambda: metrics.SpecificityAtSensitivity(0.4), SENS_T, SENS_P, np.arange(1, 11), 0.4),
    "specificity class id": (lambda: metrics.SpecificityAtSensitivity(0.4, class_id=2), np.eye(3)[SENS_T * 2],
                             np.stack([SENS_P] * 3, axis=1), None, 0.6),
    "recall at precision weighted": (lambda: metrics.RecallAtPrecision(0.75), np.array([0, 1, 0, 0, 0, 1, 1]),
                                     np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.9, 0.9], "float32"),
                                     np.array([1, 2, 1, 2, 1, 2, 1]), 0.6),
    "recall at unachievable precision": (lambda: metrics.RecallAtPrecision(2.0 / 3), np.array([1, 1, 0, 0]),
                                         np.array([0.1, 0.2, 0.3, 0.9], "float32"), None, 0.0),
})

AUC_P = np.array([0, 0.5, 0.3, 0.9], dtype="float32")
AUC_T = np.array([0, 0, 1, 1])
AUC_W = [1, 2, 3, 4]
AUC_LOGITS = -np.log(1.0 / (AUC_P + 1e-12) - 1.0)
CASES.update({
    "auc all correct": (metrics.AUC, AUC_T, AUC_T, None, 1.0),
    "auc": (lambda: metrics.AUC(num_thresholds=3), AUC_T, AUC_P, None, 0.75),
    "auc from logits": (lambda: metrics.AUC(num_thresholds=3, from_logits=True), AUC_T, AUC_LOGITS, None, 0.75),
    "auc manual thresholds": (lambda: metrics.AUC(num_thresholds=2, thresholds=[0.5]), AUC_T, AUC_P, None, 0.75),
    "auc roc interpolation": (lambda: metrics.AUC(num_thresholds=3), AUC_T, AUC_P, AUC_W, 0.7855),
    "auc roc majoring": (lambda: metrics.AUC(num_thresholds=3, summation_method="majoring"), AUC_T, AUC_P, AUC_W,
                         1.0),
    "auc roc minoring": (lambda: metrics.AUC(num_thresholds=3, summation_method="minoring"), AUC_T, AUC_P, AUC_W,
                         0.571),
    "auc pr majoring": (lambda: metrics.AUC(num_thresholds=3, curve="PR", summation_method="majoring"), AUC_T, AUC_P,
                        AUC_W, 1.0),
    "auc pr minoring": (lambda: metrics.AUC(num_thresholds=3, curve="PR", summation_method="minoring"), AUC_T, AUC_P,
                        AUC_W, 0.7 * 0.429),
    "auc pr interpolation": (lambda: metrics.AUC(num_thresholds=3, curve="PR"), AUC_T, AUC_P, AUC_W,
                             2.416 / 7 + 4 / 7),
    "auc pr negative weights": (lambda: metrics.AUC(num_thresholds=3, curve="PR"), AUC_T, AUC_P, [-1, -2, -3, -4],
                                0.0),
    "auc prgain majoring": (lambda: metrics.AUC(num_thresholds=3, curve="PRGAIN", summation_method="majoring"),
                            AUC_T, AUC_P, AUC_W, 1.0),
    "auc prgain minoring": (lambda: metrics.AUC(num_thresholds=3, curve="PRGAIN", summation_method="minoring"),
                            AUC_T, AUC_P, AUC_W, 0.0),
    "auc prgain interpolation": (lambda: metrics.AUC(num_thresholds=3, curve="PRGAIN"), AUC_T, AUC_P, AUC_W, 0.5),
})

M_P = np.array([[0, 0.5, 0.3, 0.9], [0.1, 0.2, 0.3, 0.4]], dtype="float32").T
M_GOOD = np.array([[0, 0, 1, 1], [0, 0, 1, 1]]).T
M_BAD = np.array([[0, 0, 1, 1], [1, 1, 0, 0]]).T
CASES.update({
    "multi auc all correct": (lambda: metrics.AUC(multi_label=True), M_GOOD, M_GOOD, None, 1.0),
    "multi auc": (lambda: metrics.AUC(num_thresholds=5, multi_label=True), M_GOOD, M_P, None, (0.875 + 1.0) / 2),
    "multi auc from logits": (lambda: metrics.AUC(num_thresholds=5, multi_label=True, from_logits=True), M_GOOD,
                              -np.log(1.0 / (M_P + 1e-12) - 1.0), None, (0.875 + 1.0) / 2),
    "multi auc flat weighted": (lambda: metrics.AUC(num_thresholds=5), M_GOOD, M_P, [1, 2, 3, 4],
                                1.0 - (0.3333 * (1.0 - 0.2857) / 2.0)),
    "multi auc flat full weights": (lambda: metrics.AUC(num_thresholds=5), M_GOOD, M_P, np.arange(8).reshape(4, 2),
                                    1.0 - (0.3333 * (1.0 - 0.2727) / 2.0)),
    "multi auc label weights": (lambda: metrics.AUC(num_thresholds=5, multi_label=True, label_weights=[0.75, 0.25]),
                                M_GOOD, M_P, None, 0.875 * 0.75 + 0.25),
    "multi auc flat": (lambda: metrics.AUC(num_thresholds=5), M_GOOD, M_P, None, 1.0 - 3.0 / 32.0),
    "multi auc manual thresholds": (lambda: metrics.AUC(num_thresholds=2, thresholds=[0.5], multi_label=True),
                                    M_GOOD, M_P, None, (0.75 + 0.5) / 2),
})


@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_numbers(case):
    make, t, p, w, want = CASES[case]
    m = make()
    close(m(t, p, sample_weight=w), want)
    m.reset_state()
    close(once(m, t, p, sample_weight=w), want)   # reset_state starts over


def test_multi_label_pr_auc_accumulates():
    # Keras: MultiAUCTest.test_pr_interpolation_unweighted (one object, two updates; Keras' tolerance 0.1)
    auc = metrics.AUC(num_thresholds=5, curve="PR", multi_label=True)
    close(auc(M_GOOD, M_P), (0.91667 + 1.0) / 2.0, 1e-1)
    close(auc(M_BAD, M_P), (0.91667 + 0.5) / 2.0, 1e-1)
    close(metrics.AUC(num_thresholds=5, curve="PR", multi_label=True)(M_GOOD, M_P, sample_weight=[1, 2, 3, 4]),
          (0.939 + 1.0) / 2.0, 1e-1)


def test_label_weights_flat_auc():
    got = metrics.AUC(num_thresholds=5, label_weights=[0.75, 0.25])(M_GOOD, M_P)
    close(got, 1.0 - ((1.0 - 0.375) * 0.375 / 2.0), 1e-2)


def test_reduction_metrics():
    close(once(metrics.Sum(), [1, 3, 5, 7]), 16.0)
    close(once(metrics.Sum(), [1, 3, 5, 7], sample_weight=[1, 1, 0, 0]), 4.0)
    close(once(metrics.Sum(), [[1, 3], [5, 7]], sample_weight=[[1, 1], [1, 0]]), 9.0)
    close(once(metrics.Sum(), [[1, 3], [5, 7]], sample_weight=[[1, 0]]), 6.0)
    close(once(metrics.Mean(), [1, 3, 5, 7]), 4.0)
    close(once(metrics.Mean(), [1, 3, 5, 7], sample_weight=[1, 1, 0, 0]), 2.0)
    close(once(metrics.Mean(), [1, 3, 5, 7], sample_weight=[-1, -1, 0, 0]), 2.0)
    close(once(metrics.Mean(), [[1, 3], [5, 7]], sample_weight=[[1, 1], [1, 0]]), 3.0)
    close(once(metrics.Mean(), [[1, 3], [5, 7]], sample_weight=[[1, 0]]), 3.0)
    assert metrics.Sum.from_config(metrics.Sum(name="s", dtype="float32").get_config()).name == "s"


def test_precision_recall_multiple_updates_and_top_k_weights():
    p = metrics.Precision(thresholds=[0.5, 1.0])
    for _ in range(2):
        p.update_state(np.array([[0, 1], [1, 0]]), np.array([[1, 0], [0.6, 0]]), sample_weight=[[4, 0], [3, 1]])
    close(p.result(), [6.0 / 14.0, 0.0])
    assert isinstance(p.result(), np.ndarray) and isinstance(metrics.Precision()([1], [1]), float)
    p = metrics.Precision(top_k=3)
    p(np.array([[0, 1, 1, 0, 1]]), np.array([[0.2, 0.1, 0.4, 0, 0.2]]), sample_weight=np.array([[1, 4, 2, 3, 5]]))
    close(p(np.array([1, 0, 1, 1, 1]), np.array([0.2, 0.6, 0.4, 0.2, 0.2]), sample_weight=np.array(3)),
          ((2 + 5) + (3 + 3)) / ((1 + 2 + 5) + (3 + 3 + 3)))
    r = metrics.Recall(top_k=3)
    r(np.array([[0, 1, 1, 0, 1]]), np.array([[0.2, 0.1, 0.4, 0, 0.2]]), sample_weight=np.array([[1, 4, 2, 3, 5]]))
    close(r(np.array([1, 0, 1, 1, 1]), np.array([0.2, 0.6, 0.4, 0.2, 0.2]), sample_weight=np.array(3)),
          ((2 + 5) + (3 + 3)) / ((4 + 2 + 5) + (3 + 3 + 3 + 3)))
    onehot = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=float)
    scores = np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    p = metrics.Precision(class_id=1)
    close(p(onehot, scores), 1.0)
    close(p.true_positives, [1.0])
    close(p.false_positives, [0.0])
    with pytest.raises(ValueError, match="class_id needs y_pred of shape"):
        metrics.Precision(class_id=2)(np.array([0, 1, 1, 0, 0]), np.array([0.2, 0.1, 0.6, 0, 0.2]))
    with pytest.raises(ValueError, match="thresholds must be in \\[0, 1\\]"):
        metrics.FalsePositives(thresholds=[-1, 0.5, 2])


def test_confusion_configs_round_trip():
    fp = metrics.FalsePositives(name="my_fp", thresholds=[0.4, 0.9])
    again = metrics.FalsePositives.from_config(fp.get_config())
    assert (again.name, again.thresholds) == ("my_fp", [0.4, 0.9])
    r = metrics.Recall(name="my_recall", thresholds=[0.4, 0.9], top_k=15, class_id=12)
    again = metrics.Recall.from_config(r.get_config())
    assert (again.thresholds, again.top_k, again.class_id) == ([0.4, 0.9], 15, 12)
    s = metrics.SensitivityAtSpecificity(0.4, num_thresholds=100, class_id=12, name="sas")
    again = metrics.SensitivityAtSpecificity.from_config(s.get_config())
    assert (again.specificity, again.num_thresholds, again.class_id, again.name) == (0.4, 100, 12, "sas")
    for cls, arg in ((metrics.SpecificityAtSensitivity, "sensitivity"), (metrics.PrecisionAtRecall, "recall"),
                     (metrics.RecallAtPrecision, "precision")):
        again = cls.from_config(cls(0.3, num_thresholds=7).get_config())
        assert getattr(again, arg) == 0.3 and again.num_thresholds == 7
        with pytest.raises(ValueError, match=f"{arg} must be in \\[0, 1\\]"):
            cls(-1)
        with pytest.raises(ValueError, match=r"num_thresholds must be in \[1, "):
            cls(0.4, num_thresholds=-1)
    auc = metrics.AUC(num_thresholds=100, curve="PR", summation_method="majoring", name="auc_1", dtype="float64",
                      multi_label=True, num_labels=2, from_logits=True)
    config = auc.get_config()
    assert config == json.loads(json.dumps(config))
    again = metrics.AUC.from_config(config)
    assert again.get_config() == config and again.num_thresholds == 100 and again.num_labels == 2
    auc = metrics.AUC(num_thresholds=10, curve="PR", summation_method="majoring", thresholds=[0.3, 0.5])
    assert auc.num_thresholds == 4
    close(auc.thresholds, [0.0, 0.3, 0.5, 1.0], 1e-6)
    again = metrics.AUC.from_config(auc.get_config())
    assert again.num_thresholds == 4 and again.get_config() == auc.get_config()
    for bad in ({"num_thresholds": 1}, {"curve": "Invalid"}, {"summation_method": "Invalid"}):
        with pytest.raises(ValueError):
            metrics.AUC(**bad)


def test_accuracy_configs_and_positional_names():
    assert metrics.Accuracy("acc").name == "acc"   # the name comes first, as in Keras
    for cls in (metrics.Accuracy, metrics.BinaryAccuracy, metrics.CategoricalAccuracy,
                metrics.SparseCategoricalAccuracy, metrics.MeanSquaredError, metrics.MeanAbsoluteError,
                metrics.MeanAbsolutePercentageError, metrics.MeanSquaredLogarithmicError, metrics.RootMeanSquaredError,
                metrics.CosineSimilarity, metrics.LogCoshError, metrics.BinaryCrossentropy,
                metrics.CategoricalCrossentropy, metrics.SparseCategoricalCrossentropy, metrics.KLDivergence,
                metrics.Poisson, metrics.Hinge, metrics.SquaredHinge, metrics.CategoricalHinge, metrics.Mean,
                metrics.Sum):
        m = cls("my_name", dtype="float32")
        config = m.get_config()
        assert config["name"] == "my_name" and config["dtype"] == "float32"
        again = cls.from_config(config)
        assert type(again) is cls and again.get_config() == config
    top = metrics.TopKCategoricalAccuracy(k=1, name="top", dtype="float32")
    again = metrics.TopKCategoricalAccuracy.from_config(top.get_config())
    assert (again.k, again.name) == (1, "top")
    assert metrics.BinaryAccuracy(threshold=0.3).get_config()["threshold"] == 0.3
    assert metrics.SparseTopKCategoricalAccuracy(from_sorted_ids=True).from_sorted_ids
    assert metrics.LogCoshError().name == "logcosh"
    wrapper = metrics.MeanMetricWrapper(pynn.losses.mean_squared_error, name="w", dtype="float32")
    again = metrics.MeanMetricWrapper.from_config(wrapper.get_config())
    assert again.get_config()["fn"] == "mean_squared_error"
    close(once(again, YT5, YP5), 0.5)
    close(once(metrics.MeanMetricWrapper(**wrapper.get_config()), YT5, YP5), 0.5)   # as load_model builds it
    with pytest.raises(ValueError, match="unknown metric function"):
        metrics.MeanMetricWrapper("no_such_function")


def test_regression_keras_numbers():
    t = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
    p = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    pn = p / np.linalg.norm(p, axis=1, keepdims=True)
    cos = np.sum(tn * pn, axis=1)
    close(metrics.CosineSimilarity()(t, p), np.mean(cos))
    close(metrics.CosineSimilarity()(t, p, sample_weight=[1.2, 3.4]), np.sum(cos * [1.2, 3.4]) / 4.6)
    close(metrics.CosineSimilarity(axis=1)(t, p), np.mean(cos))
    e = p - t
    lc = np.log((np.exp(e) + np.exp(-e)) / 2)
    close(metrics.LogCoshError()(t, p), lc.mean())
    w = np.repeat([[1.2], [3.4]], 3, axis=1)
    close(metrics.LogCoshError(dtype="float32")(t, p, sample_weight=[[1.2], [3.4]]), np.sum(lc * w) / np.sum(w))


R2_T = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


@pytest.mark.parametrize("aggregation,regressors,pred,weights,want", [
    (None, 0, [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]], None, [0.37, -1.295, 0.565]),
    (None, 1, [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]], None, [-0.26, -3.59, 0.13]),
    ("uniform_average", 0, [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]], None, -0.12),
    ("variance_weighted_average", 0, [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]], None, -0.12),
    (None, 0, [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]], [0.8, 0.1, 0.4], [0.17305559, -8.836666, -0.521]),
    (None, 1, [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]], [0.8, 0.1, 0.4],
     [-0.65388882, -18.673332, -2.042]),
    (None, 2, [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]], [0.8, 0.1, 0.4], [0.17305559, -8.836666, -0.521]),
    ("uniform_average", 1, [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]], [0.8, 0.1, 0.4], -7.123073577880859),
    ("variance_weighted_average", 0, [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]], [0.8, 0.1, 0.4],
     -1.3710224628448486),
    ("variance_weighted_average", 1, [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]], [0.8, 0.1, 0.4],
     -3.742044448852539),
])
def test_r2_keras_numbers(aggregation, regressors, pred, weights, want):
    r2 = metrics.R2Score(aggregation, regressors, dtype="float32")
    close(once(r2, R2_T, pred, weights), want, 1e-5)
    again = metrics.R2Score.from_config(r2.get_config())
    assert (again.class_aggregation, again.num_regressors) == (aggregation, regressors)


def test_r2_errors():
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="wrong")
    with pytest.raises(ValueError, match="num_regressors"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="expects 2-D inputs"):
        metrics.R2Score().update_state([0.0, 1.0], [0.0, 1.0])


def test_probabilistic_keras_numbers():
    t2 = np.array([[0, 1, 0], [0, 0, 1]])
    probs = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    logits = np.array([[1, 9, 0], [1, 8, 1]], dtype=np.float32)
    w = np.array([1.5, 2.0])
    close(metrics.CategoricalCrossentropy()(t2, probs), 1.176)
    close(metrics.CategoricalCrossentropy()(t2, probs, sample_weight=w), 1.338)
    close(metrics.CategoricalCrossentropy(from_logits=True)(t2, logits), 3.5011)
    close(metrics.CategoricalCrossentropy(from_logits=True)(t2, logits, sample_weight=w), 4.0012)
    close(metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(t2, logits), 3.667)
    labels = np.array([1, 2])
    close(metrics.SparseCategoricalCrossentropy()(labels, probs), 1.176)
    close(metrics.SparseCategoricalCrossentropy()(labels, probs, sample_weight=w), 1.338)
    close(metrics.SparseCategoricalCrossentropy(from_logits=True)(labels, logits), 3.5011)
    close(metrics.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, sample_weight=w), 4.0012)
    # ignore_class: the ignored entries give 0; Keras counts them in the unweighted mean and
    # drops their weight from a weighted one
    p3 = np.array([[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    close(metrics.SparseCategoricalCrossentropy(ignore_class=0)(np.array([0, 1, 2]), p3), 0.78462)
    close(metrics.SparseCategoricalCrossentropy(ignore_class=0)(np.array([0, 1, 2]), p3,
                                                                sample_weight=np.array([0.5, 1.5, 2.0])), 1.33774646)
    close(metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(
        np.array([0, 1, 2]), np.array([[10, 1, 1], [1, 9, 0], [1, 8, 1]], dtype=np.float32)), 2.33409)
    bt = np.array([1, 0, 1, 0]).reshape([2, 2])
    bp = np.array([1, 1, 1, 0], dtype=np.float32).reshape([2, 2])
    close(metrics.BinaryCrossentropy()(bt, bp), 3.9855)
    close(metrics.BinaryCrossentropy()(bt, bp, sample_weight=w), 3.4162)
    blt = np.array([[1, 0, 1], [0, 1, 1]])
    bl = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
    close(metrics.BinaryCrossentropy(from_logits=True)(blt, bl), 3.333)
    close(metrics.BinaryCrossentropy(from_logits=True)(blt, bl, sample_weight=np.array([2.0, 2.5])), 3.7037)
    close(metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.array([[1, 0, 1]]), np.array([[10.0, -10.0, -10.0]])), (10.0 + 5.0 * 0.1) / 3.0)
    kp = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], dtype=np.float32).reshape((2, 3))
    kt = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], dtype=np.float32).reshape((2, 3))
    kl = kt * np.log(kt / kp)
    close(metrics.KLDivergence()(kt, kp), np.sum(kl) / 2)
    kw = np.asarray([1.2, 1.2, 1.2, 3.4, 3.4, 3.4]).reshape((2, 3))
    close(metrics.KLDivergence()(kt, kp, sample_weight=np.array([[1.2], [3.4]])), np.sum(kl * kw) / 4.6)
    pp = np.asarray([1, 9, 2, 5, 2, 6], dtype=np.float32).reshape((2, 3))
    pt = np.asarray([4, 8, 12, 8, 1, 3], dtype=np.float32).reshape((2, 3))
    po = pp - pt * np.log(pp)
    close(metrics.Poisson()(pt, pp), np.sum(po) / 6)
    close(metrics.Poisson()(pt, pp, sample_weight=np.array([[1.2], [3.4]])), np.sum(po * kw) / np.sum(kw))


FB_T = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 0, 1]]
FB_P = [[0.9, 0.1, 0], [0.2, 0.6, 0.2], [0, 0, 1], [0.4, 0.3, 0.3], [0, 0.9, 0.1], [0, 0, 1]]


@pytest.mark.parametrize("average,beta,weights,want", [
    (None, 0.5, None, [0.9090904, 0.555556, 1.0]),
    (None, 1.0, None, [0.8, 0.6666667, 1.0]),
    (None, 2.0, None, [0.71428573, 0.833334, 1.0]),
    ("micro", 1.0, None, 0.833334),
    ("macro", 0.5, None, 0.821549),
    ("macro", 2.0, None, 0.849206),
    ("weighted", 0.5, None, 0.880471),
    ("weighted", 1.0, None, 0.844445),
    (None, 1.0, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], [0.857143, 0.8, 1.0]),
    (None, 2.0, [1.0, 0.0, 1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0]),
    ("micro", 0.5, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], 0.9),
    ("macro", 1.0, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], 0.885714),
    ("weighted", 2.0, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], 0.897608),
])
def test_fbeta_keras_numbers(average, beta, weights, want):
    m = metrics.FBetaScore(average, beta, None, dtype="float32")
    close(once(m, FB_T, FB_P, weights), want, 1e-5)
    if beta == 1.0:
        close(once(metrics.F1Score(average=average), FB_T, FB_P, weights), want, 1e-5)
    assert metrics.FBetaScore.from_config(m.get_config()).get_config() == m.get_config()


@pytest.mark.parametrize("average,beta,want", [
    (None, 0.5, [0.71428573, 0.5, 0.833334]), ("micro", 2.0, 0.6666667), ("macro", 1.0, 0.6555555),
    ("weighted", 2.0, 0.6548822)])
def test_fbeta_threshold_keras_numbers(average, beta, want):
    y_pred = [[0.7, 0.7, 0.7], [1, 0, 0], [0.9, 0.8, 0]]
    y_true = [[0, 0, 1], [1, 1, 0], [1, 1, 1]]
    close(once(metrics.FBetaScore(average, beta, 0.66), y_true, y_pred), want, 1e-5)
    close(once(metrics.FBetaScore(average, beta, 0.66), [[1, 1, 1], [1, 0, 0], [1, 1, 0]], y_pred), 1.0, 1e-5)
    close(once(metrics.FBetaScore(average, beta, 0.66), [[0, 0, 0], [0, 1, 0], [0, 0, 1]], y_pred), 0.0, 1e-5)


def test_fbeta_weights_keras_numbers():
    t = np.array([[1, 1], [1, 0]], np.int32)
    p = np.array([[0.2, 0.6], [0.2, 0.6]], np.float32)
    close(once(metrics.FBetaScore(threshold=0.5), t, p, sample_weight=0.5), [0.0, 0.6666665], 1e-5)
    close(once(metrics.FBetaScore(threshold=0.5), t, p, sample_weight=np.array([[0.5, 0.2], [0.3, 0.8]])),
          [0.0, 0.333333], 1e-5)


def test_fbeta_errors():
    with pytest.raises(ValueError, match="average"):
        metrics.FBetaScore(average="wrong")
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=0.0)
    with pytest.raises(ValueError, match="threshold"):
        metrics.FBetaScore(threshold=1.5)


def test_iou_keras_numbers():
    obj = metrics.IoU(num_classes=2, target_class_ids=[0, 1])
    close(once(obj, [0, 0, 1, 1], [0, 1, 0, 1]), (1 / (2 + 2 - 1) + 1 / (2 + 2 - 1)) / 2)
    obj = metrics.IoU(num_classes=2, target_class_ids=[1, 0], dtype="float32")
    w = np.array([0.2, 0.3, 0.4, 0.1])
    close(once(obj, [0, 0, 1, 1], np.array([0, 1, 0, 1], "float32"), sample_weight=w),
          (0.1 / (0.4 + 0.5 - 0.1) + 0.2 / (0.6 + 0.5 - 0.2)) / 2)
    obj = metrics.IoU(num_classes=2, target_class_ids=[0, 1], dtype="float32")
    close(once(obj, [[0, 0], [1, 1]], np.array([[0, 1], [0, 1]], "float32"), sample_weight=[[0.2, 0.3], [0.4, 0.1]]),
          (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)
    obj = metrics.IoU(num_classes=2, target_class_ids=[0, 1])
    close(once(obj, [1], np.array([1], "float32")), 1.0)     # a class never seen is left out
    close(metrics.IoU(num_classes=2, target_class_ids=[0, 1]).result(), 0.0)
    m = metrics.MeanIoU(num_classes=3, ignore_class=255)
    close(once(m, [0, 1, 2, 255], [0, 1, 1, 1]), (1 / (1 + 1 - 1) + 1 / (2 + 1 - 1) + 0 / (0 + 1 - 0)) / 3)
    m = metrics.MeanIoU(num_classes=2)
    close(once(m, [0, 0, 1, 1], [0, 1, 0, 1]), (1 / 3 + 1 / 3) / 2)
    obj = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    close(once(obj, [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]), (1 / (2 + 2 - 1) + 1 / (2 + 2 - 1)) / 2)
    obj = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.5)
    close(once(obj, [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]), (2 / (2 + 3 - 2) + 1 / (2 + 1 - 1)) / 2)
    obj = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3, dtype="float32")
    close(once(obj, [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1]),
          (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)
    oh = metrics.OneHotMeanIoU(num_classes=3)
    y_true = np.eye(3)[[0, 1, 2, 1]]
    y_pred = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    cm = np.zeros((3, 3))
    for a, b in zip([0, 1, 2, 1], y_pred.argmax(1)):
        cm[a, b] += 1
    ious = np.diag(cm) / (cm.sum(0) + cm.sum(1) - np.diag(cm))
    close(once(oh, y_true, y_pred), ious.mean(), 1e-6)
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(num_classes=2, target_class_ids=[0, 5])
    again = metrics.MeanIoU.from_config(metrics.MeanIoU(num_classes=4, name="m").get_config())
    assert (again.num_classes, again.name) == (4, "m")


# ---------------------------------------------------------------- NumPy float64 references

def np_counts(t, p, th, w):
    pos = (t != 0)[None]
    above = p[None] > np.asarray(th)[:, None]
    return [np.sum((a & b) * w, axis=1) for a, b in ((above, pos), (above, ~pos), (~above, ~pos), (~above, pos))]


@pytest.mark.parametrize("n", [7, 5000])
def test_confusion_counts_against_numpy(n):
    rng = np.random.default_rng(n)
    t = (rng.random(n) > 0.4).astype(np.float64)
    p = rng.random(n)
    w = rng.random(n)
    th = [0.0, 0.1, 0.33, 0.5, 0.9, 1.0]
    tp, fp, tn, fn = np_counts(t, p, th, w)
    for cls, want in ((metrics.TruePositives, tp), (metrics.FalsePositives, fp), (metrics.TrueNegatives, tn),
                      (metrics.FalseNegatives, fn)):
        for target in (t, t[:, None]):   # both target ranks (Note [Target rank])
            m = cls(thresholds=th)
            for i in range(0, n, 3000):   # several batches accumulate
                m.update_state(target[i:i + 3000], p[i:i + 3000, None], sample_weight=w[i:i + 3000])
            close(m.result(), want, 1e-10)
    close(metrics.Precision(thresholds=th)(t, p, sample_weight=w), tp / np.where(tp + fp, tp + fp, 1), 1e-10)
    close(metrics.Recall(thresholds=th)(t, p, sample_weight=w), tp / (tp + fn), 1e-10)


def test_confusion_counts_are_the_same_for_any_thread_count():
    rng = np.random.default_rng(5)
    t, p, w = rng.random(200000) > 0.5, rng.random(200000), rng.random(200000)
    old = pynn.get_num_threads()
    try:
        pynn.set_num_threads(1)
        one = metrics.AUC(num_thresholds=50)
        one.update_state(t, p, sample_weight=w)
        pynn.set_num_threads(2)
        two = metrics.AUC(num_thresholds=50)
        two.update_state(t, p, sample_weight=w)
    finally:
        pynn.set_num_threads(old)
    close(two.true_positives, one.true_positives, 1e-9)
    close(two.result(), one.result(), 1e-12)
    th = np.array(one.thresholds)
    tp, fp, tn, fn = np_counts(t, np.clip(p, 0, 1), th, w)
    close(one.true_positives, tp, 1e-9)
    close(one.true_negatives, tn, 1e-9)


def np_auc(t, p, w, n=200, curve="ROC"):
    th = np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])
    tp, fp, tn, fn = np_counts(t, p, th, w)
    recall = tp / np.where(tp + fn, tp + fn, 1)
    if curve == "ROC":
        x, y = fp / np.where(fp + tn, fp + tn, 1), recall
    else:
        x, y = recall, tp / np.where(tp + fp, tp + fp, 1)
    return np.sum((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2)


def test_auc_random_against_numpy():
    rng = np.random.default_rng(2)
    t = (rng.random(300) > 0.5).astype(float)
    p = np.clip(t * 0.3 + rng.random(300) * 0.7, 0, 1)
    w = rng.random(300)
    close(metrics.AUC()(t, p, sample_weight=w), np_auc(t, p, w), 1e-12)
    close(metrics.AUC(curve="PR", summation_method="majoring")(t[:, None], p[:, None]) > 0, True)
    m = metrics.AUC(curve="PR", summation_method="interpolation")
    close(m(t, p), m.result(), 1e-15)
    assert 0 < m.result() <= 1


@pytest.mark.parametrize("cls,fn", [
    (metrics.MeanAbsolutePercentageError, lambda t, p: 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), 1e-7)), -1)),
    (metrics.MeanSquaredLogarithmicError,
     lambda t, p: np.mean((np.log(np.maximum(p, 1e-7) + 1) - np.log(np.maximum(t, 1e-7) + 1)) ** 2, -1)),
    (metrics.LogCoshError, lambda t, p: np.mean(np.log(np.cosh(p - t)), -1)),
    (metrics.Poisson, lambda t, p: np.mean(p - t * np.log(p + 1e-7), -1)),
    (metrics.Hinge, lambda t, p: np.mean(np.maximum(1 - (2 * t - 1) * p, 0), -1)),
    (metrics.SquaredHinge, lambda t, p: np.mean(np.maximum(1 - (2 * t - 1) * p, 0) ** 2, -1)),
])
def test_mean_metrics_random_against_numpy(cls, fn):
    rng = np.random.default_rng(11)
    t = (rng.random((20, 1)) > 0.5).astype(np.float64)
    p = rng.uniform(0.05, 0.95, (20, 1))
    w = rng.random(20)
    per = fn(t, p)
    for target in (t, t[:, 0]):
        m = cls()
        m.update_state(target[:8], p[:8], sample_weight=w[:8])
        m.update_state(target[8:], p[8:], sample_weight=w[8:])
        close(m.result(), np.sum(per * w) / np.sum(w), 1e-10)
        close(cls()(target, p), per.mean(), 1e-10)


def test_rmse_and_r2_random_against_numpy():
    rng = np.random.default_rng(4)
    t, p, w = rng.standard_normal((30, 2)), rng.standard_normal((30, 2)), rng.random(30)
    close(metrics.RootMeanSquaredError()(t, p, sample_weight=w),
          np.sqrt(np.sum((t - p) ** 2 * w[:, None]) / np.sum(w[:, None] * np.ones((30, 2)))), 1e-12)
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(0)) ** 2, axis=0)
    close(metrics.R2Score(class_aggregation=None)(t, p), 1 - ss_res / ss_tot, 1e-10)


def test_top_k_random_against_numpy():
    rng = np.random.default_rng(6)
    scores = rng.random((40, 7))
    labels = rng.integers(0, 7, 40)
    rank = np.sum(scores > scores[np.arange(40), labels][:, None], axis=1)
    w = rng.random(40)
    for k in (1, 3, 7):
        want = np.sum((rank < k) * w) / np.sum(w)
        close(metrics.SparseTopKCategoricalAccuracy(k=k)(labels, scores, sample_weight=w), want, 1e-12)
        close(metrics.SparseTopKCategoricalAccuracy(k=k)(labels[:, None], scores, sample_weight=w), want, 1e-12)
        close(metrics.TopKCategoricalAccuracy(k=k)(np.eye(7)[labels], scores, sample_weight=w), want, 1e-12)
        ids = np.argsort(-scores, axis=1)
        close(metrics.SparseTopKCategoricalAccuracy(k=k, from_sorted_ids=True)(labels, ids, sample_weight=w), want,
              1e-12)


def test_get_resolves_the_new_names():
    for name, cls in (("mape", metrics.MeanAbsolutePercentageError), ("rmse", metrics.RootMeanSquaredError),
                      ("root_mean_squared_error", metrics.RootMeanSquaredError), ("auc", metrics.AUC),
                      ("Precision", metrics.Precision), ("f1_score", metrics.F1Score),
                      ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
                      ("kl_divergence", metrics.KLDivergence), ("logcosh", metrics.LogCoshError)):
        assert isinstance(metrics.get(name), cls)
    assert metrics.get("accuracy", loss="binary_crossentropy").name == "accuracy"


def test_fit_evaluate_save_and_load_with_the_new_metrics(tmp_path):
    from pynn import layers, losses

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = pynn.Sequential([layers.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(label_smoothing=0.1),
                  metrics=[metrics.AUC(), metrics.Precision(thresholds=[0.3, 0.7]), metrics.F1Score(threshold=0.5),
                           metrics.BinaryIoU(), metrics.RecallAtPrecision(0.5)])
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    values = model.evaluate(x, y, verbose=0)
    p = np.asarray(model.predict(x, verbose=0))
    close(values[1], np_auc(y[:, 0], p[:, 0], np.ones(64)), 1e-9)
    tp = np.array([np.sum((p[:, 0] > t) & (y[:, 0] > 0)) for t in (0.3, 0.7)])
    pp = np.array([np.sum(p[:, 0] > t) for t in (0.3, 0.7)])
    close(values[2], tp / np.maximum(pp, 1), 1e-12)
    path = str(tmp_path / "m.pynn")
    model.save(path)
    again = pynn.models.load_model(path)
    assert again._loss_fn.get_config() == model._loss_fn.get_config()
    assert [m.get_config() for m in again.metrics] == [m.get_config() for m in model.metrics]
    for a, b in zip(again.evaluate(x, y, verbose=0), values):
        close(a, b, 1e-6)
