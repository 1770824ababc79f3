"""Keras-style stateful metrics: update_state(y_true, y_pred, sample_weight=None), result(),
reset_state(), get_config() / from_config().

Every metric class takes Keras 3's constructor arguments (the name first for the
mean-of-values metrics, `dtype=` on all). The per-batch arithmetic runs in pynn ops
(or, for the threshold metrics, one C++ pass: Note [Confusion counts] in
csrc/kernels/metrics.h); the running totals are Python floats or float64 NumPy
arrays. result() returns a Python float, or a NumPy array where Keras returns a
vector (Precision / Recall / TruePositives & co. with several thresholds, R2Score
and F-scores without averaging). `dtype` is recorded in the config; the totals are
always float64.

Submodules: pynn.metrics.confusion (threshold and confusion-matrix metrics,
F-scores, IoU); every class is also importable from pynn.metrics.
"""

import inspect

import numpy as np

from .. import _core
from .. import losses as _losses
from .. import ops
from ..dtypes import float64
from ..losses import check_shapes, match_rank, sparse_labels
from ..utils import snake_case

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "RootMeanSquaredError", "CosineSimilarity", "LogCoshError", "R2Score",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence", "Poisson",
    "Hinge", "SquaredHinge", "CategoricalHinge",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
    "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
    "FBetaScore", "F1Score", "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "cosine_similarity", "get",
]




def _t(x, op="metric"):
    return ops._as_tensor(x, op)


def _aligned(y_true, y_pred, op):
    """Both as tensors at the same rank (Note [Target rank] in losses.py), shapes checked."""
    y_true, y_pred = match_rank(_t(y_true, op), _t(y_pred, op))
    check_shapes(op, y_true.shape, y_pred.shape)
    return y_true, y_pred


# ---------------------------------------------------------------- accuracy functions

def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred (element-wise)."""
    y_true, y_pred = _aligned(y_true, y_pred, "accuracy")
    return ops.equal(y_true, y_pred).astype("float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) == (y_true > 0.5), element-wise."""
    y_true, y_pred = _aligned(y_true, y_pred, "binary_accuracy")
    return ops.equal(ops.greater(y_pred, threshold), ops.greater(y_true, 0.5)).astype("float32")


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


def _in_top_k(scores, labels, k):
    """1.0 where fewer than k scores are strictly greater than the true class's score
    (ties count as in, as in_top_k); scores (n, classes), labels (n,) int."""
    p = np.asarray(scores)
    true_score = p[np.arange(p.shape[0]), labels]
    greater = np.sum(p > true_score[:, None], axis=-1)
    return _t((greater < k).astype(np.float32))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (argmax of the one-hot y_true) is among the k largest scores."""
    y_true, y_pred = _t(y_true), _t(y_pred)
    check_shapes("top_k_categorical_accuracy", y_true.shape, y_pred.shape, same_shape=True)
    labels = np.asarray(ops.argmax(y_true, axis=-1))
    scores = np.asarray(y_pred).reshape(-1, y_pred.shape[-1])
    return _in_top_k(scores, labels.reshape(-1), k).reshape(labels.shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the class index y_true is among the k largest scores of y_pred; with
    from_sorted_ids, y_pred holds class ids sorted by score and the first k are searched."""
    y_pred = _t(y_pred)
    labels = np.asarray(_t(y_true))
    shape = labels.shape
    if from_sorted_ids:
        ids = np.asarray(y_pred).reshape(-1, y_pred.shape[-1])[:, :k]
        hit = np.any(ids == labels.reshape(-1, 1), axis=1).astype(np.float32)
        return _t(hit.reshape(shape))
    labels = np.asarray(sparse_labels(_t(labels), y_pred.shape, "sparse_top_k_categorical_accuracy"))
    out_shape = labels.shape
    labels = labels.reshape(-1).astype(np.int64)
    classes = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"sparse_top_k_categorical_accuracy: class indices must be in [0, {classes})")
    hit = _in_top_k(np.asarray(y_pred).reshape(-1, classes), labels, k)
    return hit.reshape(shape if len(shape) == len(out_shape) else out_shape)


# ---------------------------------------------------------------- base classes

def _per_sample(values, sample_weight, reduce=ops.mean):
    """Keras' reduction of metric values to one (weighted) value per sample: the weights are
    brought to the values' rank (Note [Target rank]), values beyond the weights' rank are
    reduced, the weights broadcast to the values; returns (values, weights or None)."""
    if sample_weight is not None:
        sample_weight = _t(np.asarray(sample_weight, dtype=np.float64)
                           if not isinstance(sample_weight, ops.Tensor) else sample_weight).astype("float64")
        values, sample_weight = match_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce(values, axis=tuple(range(weight_ndim, values.ndim)))
        try:
            sample_weight = ops.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(f"metric: sample_weight of shape {tuple(sample_weight.shape)} does not broadcast to "
                             f"the values of shape {tuple(values.shape)}") from None
        values = ops.multiply(values, sample_weight)
        if weight_ndim > 1:
            sample_weight = reduce(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Metric:
    """The base of every metric: name, dtype (recorded in the config; totals are float64),
    reset_state / update_state / result, and __call__ = update_state then result."""

    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = "float32" if dtype is None else str(np.dtype(dtype))
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def __getstate__(self):
        # An accumulator's NumPy view would pickle as a separate copy: it is remade on load.
        return {k: v for k, v in self.__dict__.items() if not k.endswith("_view")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_total", "_count"):
            if name in state:
                setattr(self, name + "_view", np.asarray(state[name]))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _accumulator():
    """A metric's running total: a float64 0-d tensor that update_state adds into with tensor ops,
    so a captured step updates it in C++ (Note [Captured steps] in csrc/plan/plan.h), and a
    NumPy view of it for result(), which reads it after every batch."""
    t = _core._full((), 0, float64.code)
    return t, np.asarray(t)


def _add_into(acc, value):
    """acc += value in float64, in place (value: a tensor or a Python number)."""
    if isinstance(value, ops.Tensor) and value.dtype != "float64":
        value = value.astype("float64")
    _core.add(acc, value, acc)


class Sum(Metric):
    """The (weighted) sum of every value seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        if not hasattr(self, "_total"):
            self._total, self._total_view = _accumulator()
        self._total[...] = 0

    @property
    def total(self):
        return float(self._total_view)

    def update_state(self, values, sample_weight=None):
        values, _ = _per_sample(_t(values).astype("float64"), sample_weight, ops.sum)
        _add_into(self._total, ops.sum(values))

    def result(self):
        return self.total


class Mean(Metric):
    """The (weighted) mean of every value seen: values beyond the weights' rank are
    averaged first (Keras' reduce_to_samplewise_values). The running total and count are
    float64 tensors, so the update is tensor ops that a captured step replays."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        if not hasattr(self, "_total"):
            (self._total, self._total_view), (self._count, self._count_view) = _accumulator(), _accumulator()
        self._total[...] = 0
        self._count[...] = 0

    @property
    def total(self):
        return float(self._total_view)

    @property
    def count(self):
        return float(self._count_view)

    def update_state(self, values, sample_weight=None):
        if isinstance(sample_weight, (int, float, type(None))) and (
                isinstance(values, (int, float)) or (isinstance(values, ops.Tensor) and values.ndim == 0)):
            # One value with a scalar weight (fit's loss tracker: the batch loss and its size).
            w = 1.0 if sample_weight is None else float(sample_weight)
            _add_into(self._total, values if w == 1 else ops.multiply(_t(values).astype("float64"), w))
            _add_into(self._count, w)
            return
        values, sample_weight = _per_sample(_t(values).astype("float64"), sample_weight)
        _add_into(self._total, ops.sum(values))
        if sample_weight is not None:
            _add_into(self._count, ops.sum(sample_weight))
        else:
            _add_into(self._count, values.shape[0] if values.ndim else 1)

    def result(self):
        count = self.count
        return self.total / count if count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred, **kwargs) per sample."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, str):  # a config's "fn": a pynn.metrics or pynn.losses function by name
            fn = _function(fn)
        self._fn = fn
        self._kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def _values(self, y_true, y_pred, sample_weight):
        return self._fn(y_true, y_pred, **self._kwargs), sample_weight

    def update_state(self, y_true, y_pred, sample_weight=None):
        values, sample_weight = self._values(y_true, y_pred, sample_weight)
        super().update_state(values, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._kwargs)
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", repr(self._fn))
        return config


def _function(name):
    """A metric or loss function from its name (a MeanMetricWrapper's config)."""
    fn = globals().get(name) if name in __all__ else getattr(_losses, name, None) if name in _losses.__all__ \
        else None
    if not callable(fn) or isinstance(fn, type):
        raise ValueError(f"MeanMetricWrapper: unknown metric function {name!r}")
    return fn


def _wrapper(cls_name, fn, params, doc, base=MeanMetricWrapper):
    """A MeanMetricWrapper subclass with Keras' constructor: params is the ordered list of
    (argument, default), `name` and `dtype` included."""
    sig = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + [
        inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for p, d in params])

    def __init__(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("self")
        name, dtype = values.pop("name"), values.pop("dtype")
        base.__init__(self, type(self)._function, name=name, dtype=dtype, **values)
        for key, value in values.items():  # Keras keeps them as attributes (metric.k, metric.threshold)
            setattr(self, key, value)

    __init__.__signature__ = sig
    return type(cls_name, (base,), {"__init__": __init__, "__doc__": doc, "_function": staticmethod(fn),
                                    "__module__": __name__})


def _nd(name, dtype=None):
    return [("name", name), ("dtype", dtype)]


Accuracy = _wrapper("Accuracy", accuracy, _nd("accuracy"), "How often y_pred equals y_true.")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, _nd("binary_accuracy") + [("threshold", 0.5)],
                          "How often (y_pred > threshold) matches the binary label.")
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy, _nd("categorical_accuracy"),
                               "How often argmax(y_pred) matches argmax(y_true) (one-hot labels).")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     _nd("sparse_categorical_accuracy"),
                                     "How often argmax(y_pred) matches the integer label.")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   [("k", 5)] + _nd("top_k_categorical_accuracy"),
                                   "How often the one-hot label is among the k top scores.")
SparseTopKCategoricalAccuracy = _wrapper("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                         [("k", 5)] + _nd("sparse_top_k_categorical_accuracy")
                                         + [("from_sorted_ids", False)],
                                         "How often the integer label is among the k top scores.")

MeanSquaredError = _wrapper("MeanSquaredError", _losses.mean_squared_error, _nd("mean_squared_error"),
                            "The mean of the squared errors.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", _losses.mean_absolute_error, _nd("mean_absolute_error"),
                             "The mean of the absolute errors.")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", _losses.mean_absolute_percentage_error,
                                       _nd("mean_absolute_percentage_error"),
                                       "100 times the mean of |y_true - y_pred| / |y_true|.")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError", _losses.mean_squared_logarithmic_error,
                                       _nd("mean_squared_logarithmic_error"),
                                       "The mean squared error of log(1 + y).")


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(normalize(t) * normalize(p)) over `axis` (the similarity, not the loss)."""
    return ops.negative(_losses.cosine_similarity(y_true, y_pred, axis=axis))


CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, _nd("cosine_similarity") + [("axis", -1)],
                            "The mean cosine similarity between y_true and y_pred along `axis`.")
LogCoshError = _wrapper("LogCoshError", _losses.log_cosh, _nd("logcosh"), "The mean of log(cosh(error)).")
KLDivergence = _wrapper("KLDivergence", _losses.kl_divergence, _nd("kl_divergence"),
                        "The mean Kullback-Leibler divergence.")
Poisson = _wrapper("Poisson", _losses.poisson, _nd("poisson"), "The mean Poisson loss.")
BinaryCrossentropy = _wrapper("BinaryCrossentropy", _losses.binary_crossentropy,
                              _nd("binary_crossentropy") + [("from_logits", False), ("label_smoothing", 0)],
                              "The mean binary cross-entropy.")
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", _losses.categorical_crossentropy,
                                   _nd("categorical_crossentropy")
                                   + [("from_logits", False), ("label_smoothing", 0), ("axis", -1)],
                                   "The mean categorical cross-entropy.")
Hinge = _wrapper("Hinge", _losses.hinge, _nd("hinge"), "The mean hinge loss.")
SquaredHinge = _wrapper("SquaredHinge", _losses.squared_hinge, _nd("squared_hinge"), "The mean squared hinge loss.")
CategoricalHinge = _wrapper("CategoricalHinge", _losses.categorical_hinge, _nd("categorical_hinge"),
                            "The mean categorical hinge loss.")


class _SparseXentWrapper(MeanMetricWrapper):
    """Entries equal to ignore_class give 0. As in Keras, they still count in an unweighted
    mean, and their weight is dropped from a weighted one (Keras applies the loss's mask
    only together with sample weights)."""

    def _values(self, y_true, y_pred, sample_weight):
        values, valid = _losses._sparse_xent(y_true, y_pred, self._kwargs["from_logits"],
                                             self._kwargs["ignore_class"], self._kwargs["axis"])
        if valid is not None and sample_weight is not None:
            mask, w = match_rank(valid.astype(np.float64), np.asarray(sample_weight, dtype=np.float64))
            sample_weight = mask * w
        return values, sample_weight


SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy", _losses.sparse_categorical_crossentropy,
                                         _nd("sparse_categorical_crossentropy")
                                         + [("from_logits", False), ("ignore_class", None), ("axis", -1)],
                                         "The mean cross-entropy of integer labels (ignore_class entries skipped).",
                                         base=_SparseXentWrapper)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of the squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _losses._pair(y_true, y_pred, self.name)
        super().update_state(ops.square(ops.subtract(y_pred, y_true)), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class R2Score(Metric):
    """The coefficient of determination 1 - SS_res / SS_tot per output column of
    (samples, outputs) data, averaged over the columns ("uniform_average"), weighted by
    their variance ("variance_weighted_average"), or not (None: an array); with
    num_regressors p > 0 the adjusted score 1 - (1 - R2)(n - 1)/(n - p - 1)."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError(f"R2Score: invalid class_aggregation {class_aggregation!r}; expected None, "
                             f"'uniform_average' or 'variance_weighted_average'")
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.sum = self.squared_sum = self.total_mse = self.count = None
        self.num_samples = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = match_rank(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))
        if t.ndim != 2 or p.ndim != 2:
            raise ValueError(f"R2Score: expects 2-D inputs (batch_size, output_dim): y_true {t.shape}, "
                             f"y_pred {p.shape}")
        check_shapes(self.name, t.shape, p.shape, same_shape=True)
        w = np.ones(1) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, t.shape)
        if self.sum is None:
            zeros = np.zeros(t.shape[1])
            self.sum, self.squared_sum, self.total_mse, self.count = zeros, zeros.copy(), zeros.copy(), zeros.copy()
        elif self.sum.shape[0] != t.shape[1]:
            raise ValueError(f"R2Score: {t.shape[1]} outputs after {self.sum.shape[0]}")
        self.sum = self.sum + np.sum(w * t, axis=0)
        self.squared_sum = self.squared_sum + np.sum(t * w * t, axis=0)
        self.total_mse = self.total_mse + np.sum((t - p) ** 2 * w, axis=0)
        self.count = self.count + np.sum(w, axis=0)
        self.num_samples += float(np.sum(np.any(w != 0, axis=-1)))

    def result(self):
        if self.sum is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = float(np.mean(raw))
        elif self.class_aggregation == "variance_weighted_average":
            score = float(np.sum(total * raw) / np.sum(total))
        else:
            score = raw
        n, p = self.num_samples, self.num_regressors
        if p and p < n - 1:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return score

    def get_config(self):
        return dict(super().get_config(), class_aggregation=self.class_aggregation,
                    num_regressors=self.num_regressors)


from .confusion import (AUC, F1Score, FalseNegatives, FalsePositives, FBetaScore, IoU, BinaryIoU,  # noqa: E402
                        MeanIoU, OneHotIoU, OneHotMeanIoU, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
                        SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives)

_CLASSES = [
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError, R2Score, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC,
    F1Score, FBetaScore,
]
_BY_NAME = {snake_case(c.__name__): c for c in _CLASSES}
_BY_NAME.update({c.__name__.lower(): c for c in _CLASSES})
_BY_NAME.update({
    "acc": Accuracy, "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "rmse": RootMeanSquaredError, "logcosh": LogCoshError,
    "log_cosh_error": LogCoshError, "kld": KLDivergence, "auc": AUC, "r2_score": R2Score, "bce": BinaryCrossentropy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
})


def get(identifier, loss=None):
    """A metric object from a name, an instance or a function. "accuracy" resolves by the loss,
    as Keras' compile does: sparse categorical cross-entropy -> sparse_categorical_accuracy,
    categorical -> categorical_accuracy, binary -> binary_accuracy."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and not isinstance(identifier, str):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    key = str(identifier).lower()
    if key in ("accuracy", "acc") and loss is not None:
        loss_name = loss if isinstance(loss, str) else getattr(loss, "name", "")
        for prefix, cls in (("sparse_categorical", SparseCategoricalAccuracy),
                            ("categorical", CategoricalAccuracy), ("binary", BinaryAccuracy)):
            if str(loss_name).lower().startswith(prefix):
                return cls(name="accuracy")
    if key not in _BY_NAME:
        raise ValueError(f"metrics.get: unknown metric {identifier!r}; expected one of {sorted(_BY_NAME)} or a callable")
    return _BY_NAME[key]()
