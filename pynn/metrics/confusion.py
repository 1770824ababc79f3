"""Threshold and confusion-matrix metrics: TruePositives & co., Precision, Recall, AUC, the
*AtRecall / *AtSensitivity family (weighted counts from one C++ pass over the batch and
all thresholds: Note [Confusion counts] in csrc/kernels/metrics.h), F-scores and IoU.

A prediction is positive when it is strictly above a threshold; a label is positive
when it is non-zero (Keras). result() is a Python float, or a float64 NumPy array with
one value per threshold where several were given."""

import numpy as np

from .. import _core
from ..losses import EPSILON, check_shapes, match_rank
from . import Metric

NEG_INF = -1e10  # the score top_k gives to the predictions it drops (Keras)


def _np(x, dtype=np.float64):
    return np.asarray(x, dtype=dtype)


MAX_THRESHOLDS = 2**24  # each threshold keeps four float64 counts (per label): 512 MiB at this bound


def _even_thresholds(num_thresholds, op, least):
    """num_thresholds checked: an int in [least, MAX_THRESHOLDS], with the error naming op."""
    if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)):
        raise TypeError(f"{op}: num_thresholds must be an int, got {type(num_thresholds).__name__}")
    if not least <= num_thresholds <= MAX_THRESHOLDS:
        raise ValueError(f"{op}: num_thresholds must be in [{least}, {MAX_THRESHOLDS}], got {num_thresholds}")
    return int(num_thresholds)


def _thresholds(thresholds, default, op):
    values = [default] if thresholds is None else list(np.atleast_1d(np.asarray(thresholds, dtype=np.float64)))
    if thresholds is not None and any(not 0 <= t <= 1 for t in values):
        raise ValueError(f"{op}: thresholds must be in [0, 1], got {thresholds!r}")
    return [float(t) for t in values]


def _divide(a, b):
    """a / b, 0 where b is 0 (Keras' divide_no_nan)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0)


def _scalar_or_array(values, thresholds):
    return float(values[0]) if len(thresholds) == 1 else np.array(values, dtype=np.float64)


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None, multi_label=False,
                     label_weights=None, clip=False, op="confusion_counts"):
    """The weighted (tp, fp, tn, fn) of one batch, each (thresholds,) or, with multi_label,
    (thresholds, labels): Keras' update_confusion_matrix_variables, counted by one C++ pass."""
    pred, true = match_rank(_np(y_pred), np.asarray(y_true))
    weight = None
    if sample_weight is not None:
        weight = _np(sample_weight)[..., None]
        _, weight = match_rank(true, weight, expand_rank_1=False)
    if top_k is not None:
        order = np.argsort(-pred, axis=-1, kind="stable")[..., :top_k]
        keep = np.zeros(pred.shape, dtype=bool)
        np.put_along_axis(keep, order, True, axis=-1)
        pred = np.where(keep, pred, NEG_INF)
    if class_id is not None:
        if pred.ndim < 2:
            raise ValueError(f"{op}: class_id needs y_pred of shape (samples, classes), got {pred.shape}")
        pred, true = pred[..., class_id, None], true[..., class_id, None]
    check_shapes(op, true.shape, pred.shape)
    try:
        positive = np.broadcast_to(true != 0, pred.shape)
    except ValueError:  # shapes that broadcast together, but y_true is the larger one
        raise ValueError(f"{op}: y_true of shape {true.shape} does not broadcast to the predictions of shape "
                         f"{pred.shape}") from None
    try:
        weight = np.ones(pred.shape) if weight is None else np.broadcast_to(weight, pred.shape)
    except ValueError:
        raise ValueError(f"{op}: sample_weight of shape {np.shape(sample_weight)} does not broadcast to the "
                         f"predictions of shape {pred.shape}") from None
    if label_weights is not None and not multi_label:
        weight = weight * np.broadcast_to(_np(label_weights), pred.shape)
    if clip:
        pred = np.clip(pred, 0.0, 1.0)
    if multi_label:
        if pred.ndim != 2:
            raise ValueError(f"{op}: multi_label needs y_pred of rank 2, got shape {pred.shape}")
        shape = pred.shape
    else:
        shape = (pred.size, 1)
    pred, positive, weight = pred.reshape(shape), positive.reshape(shape), weight.reshape(shape)
    th = _np(thresholds)
    tp, fp, tn, fn = (np.zeros((th.size, shape[1])) for _ in range(4))
    _core._confusion_counts(pred, positive.astype(np.uint8), weight, th, tp, fp, tn, fn)
    if not multi_label:
        tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
    return tp, fp, tn, fn


class _ConfusionMetric(Metric):
    """Keeps tp / fp / tn / fn per threshold (float64 arrays)."""

    top_k = class_id = None
    _clip = False

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, top_k=self.top_k,
                                          class_id=self.class_id, clip=self._clip, op=self.name)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn


class _Count(_ConfusionMetric):
    _which = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.thresholds = _thresholds(thresholds, 0.5, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def result(self):
        return _scalar_or_array(getattr(self, self._which), self.thresholds)

    def get_config(self):
        return dict(super().get_config(), thresholds=self.init_thresholds)


class TruePositives(_Count):
    """The weighted count of positive labels predicted positive (y_pred > threshold)."""
    _which = "true_positives"


class FalsePositives(_Count):
    """The weighted count of negative labels predicted positive (y_pred > threshold)."""
    _which = "false_positives"


class TrueNegatives(_Count):
    """The weighted count of negative labels predicted negative (y_pred <= threshold)."""
    _which = "true_negatives"


class FalseNegatives(_Count):
    """The weighted count of positive labels predicted negative (y_pred <= threshold)."""
    _which = "false_negatives"


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.top_k, self.class_id = top_k, class_id
        self.thresholds = _thresholds(thresholds, 0.5 if top_k is None else NEG_INF, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def get_config(self):
        return dict(super().get_config(), thresholds=self.init_thresholds, top_k=self.top_k, class_id=self.class_id)


class Precision(_PrecisionRecall):
    """TP / (TP + FP) per threshold (0 when nothing is predicted positive). top_k: only the
    k highest scores of a sample count as predicted; class_id: only that column."""

    def result(self):
        return _scalar_or_array(_divide(self.true_positives, self.true_positives + self.false_positives),
                                self.thresholds)


class Recall(_PrecisionRecall):
    """TP / (TP + FN) per threshold (0 when there are no positives). top_k and class_id as
    for Precision."""

    def result(self):
        return _scalar_or_array(_divide(self.true_positives, self.true_positives + self.false_negatives),
                                self.thresholds)


class _AtConstraint(_ConfusionMetric):
    """The best value of one rate among the thresholds where another rate reaches `value`,
    over num_thresholds thresholds evenly spaced in [0, 1] (0.5 alone for 1)."""

    _arg = None
    _clip = True

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        cls = type(self).__name__
        if not 0 <= value <= 1:
            raise ValueError(f"{cls}: {self._arg} must be in [0, 1], got {value}")
        num_thresholds = _even_thresholds(num_thresholds, cls, 1)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        setattr(self, self._arg, value)
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            self.thresholds = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        super().__init__(name=name, dtype=dtype)

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {"sensitivity": _divide(tp, tp + fn), "recall": _divide(tp, tp + fn),
                "specificity": _divide(tn, tn + fp), "precision": _divide(tp, tp + fp)}

    def _best(self, constrained, dependent):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return float(np.max(np.where(feasible, rates[dependent], 0.0), initial=0.0))

    def get_config(self):
        return dict(super().get_config(), **{self._arg: self.value}, num_thresholds=self.num_thresholds,
                    class_id=self.class_id)


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) at thresholds whose specificity is >= `specificity`."""
    _arg = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity at thresholds whose sensitivity is >= `sensitivity`."""
    _arg = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("sensitivity", "specificity")


class PrecisionAtRecall(_AtConstraint):
    """The best precision at thresholds whose recall is >= `recall`."""
    _arg = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("recall", "precision")


class RecallAtPrecision(_AtConstraint):
    """The best recall at thresholds whose precision is >= `precision`."""
    _arg = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best("precision", "recall")


class AUC(_ConfusionMetric):
    """The area under the ROC or precision-recall curve, a Riemann sum over thresholds.

    Thresholds: num_thresholds evenly spaced in [0, 1] (the ends moved out by 1e-7), or
    the given `thresholds` with -1e-7 and 1 + 1e-7 added. summation_method
    "interpolation" (trapezoids; for PR, Davis & Goadrich's interpolation),
    "minoring" or "majoring". multi_label: one curve per label column, averaged
    (weighted by label_weights); else every entry is one sample and label_weights
    weigh the columns. from_logits: a sigmoid first."""

    _clip = True

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        curve = str(curve).upper()
        if curve not in ("ROC", "PR", "PRGAIN"):
            raise ValueError(f"AUC: invalid curve {curve!r}; expected 'ROC', 'PR' or 'PRGAIN'")
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: invalid summation_method {summation_method!r}; expected 'interpolation', "
                             f"'minoring' or 'majoring'")
        self._init_thresholds = None if thresholds is None else [float(t) for t in np.atleast_1d(thresholds)]
        if thresholds is not None:
            inner = sorted(self._init_thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            self.num_thresholds = num_thresholds = _even_thresholds(num_thresholds, "AUC", 2)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        if num_labels and not multi_label:
            raise ValueError("AUC: num_labels is needed only when multi_label is True")
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self.from_logits = from_logits
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        shape = (self.num_thresholds, self.num_labels) if self.multi_label and self.num_labels else None
        if self.multi_label and shape is None:
            self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None
            return
        shape = shape or (self.num_thresholds,)
        self.true_positives, self.false_positives = np.zeros(shape), np.zeros(shape)
        self.true_negatives, self.false_negatives = np.zeros(shape), np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = _np(y_pred)
        if self.from_logits:
            pred = 1.0 / (1.0 + np.exp(-pred))
        counts = confusion_counts(y_true, pred, self.thresholds, sample_weight, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights, clip=True,
                                  op=self.name)
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = (
                np.zeros_like(c) for c in counts)
        elif self.true_positives.shape != counts[0].shape:
            raise ValueError(f"{self.name}: {counts[0].shape[-1]} labels after {self.true_positives.shape[-1]}")
        self.true_positives += counts[0]
        self.false_positives += counts[1]
        self.true_negatives += counts[2]
        self.false_negatives += counts[3]

    def _by_label(self, terms):
        if not self.multi_label:
            return float(np.sum(terms))
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide(np.sum(by_label * self.label_weights), np.sum(self.label_weights)))

    def _interpolate_pr(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return _divide(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))

    def result(self):
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._by_label(self._interpolate_pr())
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide(tp, tp + fp)
        else:  # PRGAIN
            scale = _divide(tp + fn, tn + fp)
            x = np.maximum(np.where(tp == 0, 0.0, 1.0 - scale * _divide(fn, tp)), 0.0)
            y = np.where(tp == 0, 1.0, 1.0 - scale * _divide(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def get_config(self):
        return dict(super().get_config(), num_thresholds=self.num_thresholds, curve=self.curve,
                    summation_method=self.summation_method, thresholds=self._init_thresholds,
                    multi_label=self.multi_label, num_labels=self.num_labels,
                    label_weights=None if self.label_weights is None else self.label_weights.tolist(),
                    from_logits=self.from_logits)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("thresholds") is not None:
            config.pop("num_thresholds", None)
        return cls(**config)


class FBetaScore(Metric):
    """(1 + beta^2) P R / (beta^2 P + R) per class of (samples, classes) data. A prediction
    is positive above `threshold`, or, without one, where it is the row's largest (and
    non-zero). average: None (an array per class), "micro" (counts pooled), "macro" (the
    mean over classes) or "weighted" (weighted by each class's support)."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        cls = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{cls}: invalid average {average!r}; expected None, 'micro', 'macro' or 'weighted'")
        if not isinstance(beta, float) or beta <= 0:
            raise ValueError(f"{cls}: beta must be a Python float > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or not 0 < threshold <= 1):
            raise ValueError(f"{cls}: threshold must be a Python float in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true), _np(y_pred)
        if t.ndim != 2 or p.ndim != 2:
            raise ValueError(f"{self.name}: expects 2-D inputs (batch_size, output_dim): y_true {t.shape}, "
                             f"y_pred {p.shape}")
        check_shapes(self.name, t.shape, p.shape, same_shape=True)
        if self.threshold is None:
            pred = (p >= np.max(p, axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            pred = p > self.threshold
        pred = pred.astype(np.float64)
        w = None if sample_weight is None else _np(sample_weight)
        if w is not None and w.ndim < t.ndim:
            w = w.reshape(w.shape + (1,) * (t.ndim - w.ndim))

        def wsum(v):
            return np.sum(v if w is None else v * w, axis=self.axis)

        counts = (wsum(pred * t), wsum(pred * (1 - t)), wsum((1 - pred) * t), wsum(t))
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights = counts
        else:
            self.true_positives = self.true_positives + counts[0]
            self.false_positives = self.false_positives + counts[1]
            self.false_negatives = self.false_negatives + counts[2]
            self.intermediate_weights = self.intermediate_weights + counts[3]

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + EPSILON) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            return float(np.sum(f * weights))
        if self.average is not None:
            return float(np.mean(f))
        return np.asarray(f, dtype=np.float64)

    def get_config(self):
        return dict(super().get_config(), average=self.average, beta=self.beta, threshold=self.threshold)


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class IoU(Metric):
    """Intersection over union TP / (TP + FP + FN) of class ids, from a (weighted) confusion
    matrix, averaged over target_class_ids whose denominator is not 0. Labels outside
    [0, num_classes) and ignore_class are skipped; sparse_y_true / sparse_y_pred False take
    the argmax over `axis` first."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        target_class_ids = list(target_class_ids)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"{type(self).__name__}: target class id {max(target_class_ids)} is out of range "
                             f"[0, {num_classes})")
        self.num_classes, self.target_class_ids = num_classes, target_class_ids
        self.ignore_class, self.sparse_y_true, self.sparse_y_pred, self.axis = (ignore_class, sparse_y_true,
                                                                                 sparse_y_pred, axis)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = np.asarray(y_true), np.asarray(y_pred)
        if not self.sparse_y_true:
            t = np.argmax(t, axis=self.axis)
        if not self.sparse_y_pred:
            p = np.argmax(p, axis=self.axis)
        t, p = t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64)
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: y_true and y_pred must hold as many class ids: y_true "
                             f"{np.shape(y_true)}, y_pred {np.shape(y_pred)}")
        w = np.ones(t.shape) if sample_weight is None else np.broadcast_to(_np(sample_weight).reshape(-1)
                                                                           if np.ndim(sample_weight) else
                                                                           _np(sample_weight), t.shape)
        n = self.num_classes
        ok = (t >= 0) & (t < n) & (p >= 0) & (p < n)
        if self.ignore_class is not None:
            ok &= t != self.ignore_class
        self.total_cm += np.bincount(t[ok] * n + p[ok], weights=w[ok], minlength=n * n).reshape(n, n)

    def result(self):
        cm = self.total_cm
        tp = np.diag(cm)
        denom = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        tp = tp[self.target_class_ids]
        valid = denom > 1e-9
        iou = np.where(valid, tp / (denom + EPSILON), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + EPSILON))

    def get_config(self):
        return dict(super().get_config(), num_classes=self.num_classes, target_class_ids=self.target_class_ids,
                    ignore_class=self.ignore_class, sparse_y_true=self.sparse_y_true,
                    sparse_y_pred=self.sparse_y_pred, axis=self.axis)


class MeanIoU(IoU):
    """IoU averaged over every class."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary labels, predictions >= threshold being class 1."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, (_np(y_pred) >= self.threshold).astype(np.int64), sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "target_class_ids": self.target_class_ids,
                "threshold": self.threshold}


class OneHotIoU(IoU):
    """IoU of one-hot labels (argmax taken over `axis`)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU of one-hot labels (argmax taken over `axis`)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
