"""Keras-style stateful metrics: update_state(y_true, y_pred, sample_weight=None), result(),
reset_state(). The per-batch arithmetic runs in pynn ops; the running totals are Python floats.
"""

from . import ops
from .losses import check_shapes, match_rank, mean_absolute_error, mean_squared_error, sparse_labels
from .utils import snake_case

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "Precision", "Recall", "AUC", "MeanSquaredError",
    "MeanAbsoluteError",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "get",
]


def _t(x):
    return ops._as_tensor(x)


def _aligned(y_true, y_pred, op):
    """Both as tensors at the same rank (Note [Target rank] in losses.py), shapes checked."""
    y_true, y_pred = match_rank(_t(y_true), _t(y_pred))
    check_shapes(op, y_true.shape, y_pred.shape)
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred (element-wise)."""
    y_true, y_pred = _aligned(y_true, y_pred, "accuracy")
    return ops.equal(y_true, y_pred).astype("float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """mean over the last axis of (y_pred > threshold) == y_true."""
    y_true, y_pred = _aligned(y_true, y_pred, "binary_accuracy")
    hit = ops.equal(ops.greater(y_pred, threshold), ops.greater(y_true, 0.5))
    return ops.mean(hit.astype("float32"), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) over the last axis."""
    y_true, y_pred = _t(y_true), _t(y_pred)
    check_shapes("categorical_accuracy", y_true.shape, y_pred.shape, same_shape=True)
    return ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1)).astype("float32")


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the class index, compared as Keras does (in the
    float dtype); labels (n, 1) give matches of shape (n, 1)."""
    y_pred = _t(y_pred)
    labels = _t(y_true)
    shape = labels.shape
    labels = sparse_labels(labels, y_pred.shape, "sparse_categorical_accuracy")
    if labels.dtype != y_pred.dtype and y_pred.dtype.is_floating_point:
        labels = labels.astype(y_pred.dtype)
    matches = ops.equal(labels, ops.argmax(y_pred, axis=-1).astype(labels.dtype)).astype("float32")
    return matches.reshape(shape) if matches.shape != shape else matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (argmax of the one-hot y_true) is among the k largest scores."""
    pred = _t(y_pred)
    label = ops.argmax(_t(y_true), axis=-1)
    import numpy as np

    p = np.asarray(pred)
    true_score = p[np.arange(p.shape[0]), np.asarray(label)]
    # in_top_k: fewer than k scores strictly greater than the true one.
    greater = ops.sum(ops.greater(pred, _t(true_score[:, None].astype(p.dtype))), axis=-1)
    return ops.less(greater, k).astype("float32")


def _per_sample(values, sample_weight):
    """Keras' reduction of metric values to one (weighted) value per sample: the weights are
    brought to the values' rank (Note [Target rank]), values beyond the weights' rank are
    averaged, the weights broadcast to the values; returns (values, weights or None)."""
    if sample_weight is not None:
        sample_weight = _t(sample_weight).astype("float64")
        values, sample_weight = match_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = ops.mean(values, axis=tuple(range(weight_ndim, values.ndim)))
        sample_weight = ops.broadcast_to(sample_weight, values.shape)
        values = ops.multiply(values, sample_weight)
        if weight_ndim > 1:
            sample_weight = ops.mean(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = ops.mean(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Metric:
    def __init__(self, name=None, dtype="float32"):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()


class Mean(Metric):
    """The (weighted) mean of every value seen."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (int, float)) and isinstance(sample_weight, (int, float, type(None))):
            w = 1.0 if sample_weight is None else float(sample_weight)  # a scalar (fit's loss tracker)
            self.total += float(values) * w
            self.count += w
            return
        values, sample_weight = _per_sample(_t(values).astype("float64"), sample_weight)
        self.total += float(ops.sum(values))
        if sample_weight is not None:
            self.count += float(ops.sum(sample_weight))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred) per sample."""

    fn = None

    def __init__(self, fn=None, name=None, **kwargs):
        self._fn = fn or type(self).fn
        self._kwargs = kwargs
        super().__init__(name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._kwargs), sample_weight)


class Accuracy(MeanMetricWrapper):
    fn = staticmethod(accuracy)


class BinaryAccuracy(MeanMetricWrapper):
    fn = staticmethod(binary_accuracy)

    def __init__(self, name="binary_accuracy", threshold=0.5):
        super().__init__(name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    fn = staticmethod(categorical_accuracy)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    fn = staticmethod(sparse_categorical_accuracy)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    fn = staticmethod(top_k_categorical_accuracy)

    def __init__(self, k=5, name="top_k_categorical_accuracy"):
        super().__init__(name=name, k=k)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name)


class _Confusion(Metric):
    """True/false positives and negatives of (y_pred > threshold) against y_true > 0.5."""

    def __init__(self, thresholds=0.5, name=None):
        self.threshold = thresholds
        super().__init__(name=name)

    def reset_state(self):
        self.tp = self.fp = self.fn = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _aligned(y_true, y_pred, self.name)
        pred = ops.greater(y_pred, self.threshold)
        true = ops.greater(y_true, 0.5)
        w = 1.0 if sample_weight is None else _t(sample_weight)
        self.tp += float(ops.sum(ops.multiply(ops.multiply(pred, true).astype("float64"), w)))
        self.fp += float(ops.sum(ops.multiply(ops.multiply(pred, ops.equal(true, False)).astype("float64"), w)))
        self.fn += float(ops.sum(ops.multiply(ops.multiply(ops.equal(pred, False), true).astype("float64"), w)))


class Precision(_Confusion):
    """TP / (TP + FP) at the threshold (0 when nothing is predicted positive)."""

    def result(self):
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0


class Recall(_Confusion):
    """TP / (TP + FN) at the threshold (0 when there are no positives)."""

    def result(self):
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


class AUC(Metric):
    """Area under the ROC curve from confusion counts at num_thresholds thresholds (Keras'
    defaults: 200 evenly spaced in (0, 1) plus -1e-7 and 1 + 1e-7), summed with the
    trapezoidal rule ("interpolation" for ROC)."""

    def __init__(self, num_thresholds=200, name="auc"):
        if num_thresholds < 2:
            raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
        eps = 1e-7
        self.thresholds = [0.0 - eps] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0 + eps]
        super().__init__(name=name)

    def reset_state(self):
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = ops.reshape(_t(y_pred), (-1, 1)).astype("float64")
        true = ops.reshape(ops.greater(_t(y_true), 0.5), (-1, 1)).astype("float64")
        w = 1.0 if sample_weight is None else ops.reshape(_t(sample_weight), (-1, 1)).astype("float64")
        above = ops.greater(pred, _t([self.thresholds])).astype("float64")  # (samples, thresholds)
        pos, neg = ops.multiply(true, w), ops.multiply(ops.subtract(1.0, true), w)
        tp = ops.sum(ops.multiply(above, pos), axis=0).tolist()
        fp = ops.sum(ops.multiply(above, neg), axis=0).tolist()
        p_total, n_total = float(ops.sum(pos)), float(ops.sum(neg))
        for i in range(len(self.thresholds)):
            self.tp[i] += tp[i]
            self.fp[i] += fp[i]
            self.fn[i] += p_total - tp[i]
            self.tn[i] += n_total - fp[i]

    def result(self):
        tpr = [tp / (tp + fn) if tp + fn else 0.0 for tp, fn in zip(self.tp, self.fn)]
        fpr = [fp / (fp + tn) if fp + tn else 0.0 for fp, tn in zip(self.fp, self.tn)]
        return sum((fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2 for i in range(len(tpr) - 1))


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy, "precision": Precision, "recall": Recall, "auc": AUC,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}


def get(identifier, loss=None):
    """A metric object from a name, an instance or a function. "accuracy" resolves by the loss,
    as Keras' compile does: sparse categorical cross-entropy -> sparse_categorical_accuracy,
    categorical -> categorical_accuracy, binary -> binary_accuracy."""
    if isinstance(identifier, Metric):
        return identifier
    if callable(identifier) and not isinstance(identifier, str):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    key = str(identifier).lower()
    if key in ("accuracy", "acc") and loss is not None:
        loss_name = loss if isinstance(loss, str) else getattr(loss, "name", "")
        for prefix, cls in (("sparse_categorical", SparseCategoricalAccuracy),
                            ("categorical", CategoricalAccuracy), ("binary", BinaryAccuracy)):
            if str(loss_name).lower().startswith(prefix):
                metric = cls()
                metric.name = "accuracy"
                return metric
    if key not in _BY_NAME:
        raise ValueError(f"unknown metric {identifier!r}; expected one of {sorted(_BY_NAME)} or a callable")
    return _BY_NAME[key]()
