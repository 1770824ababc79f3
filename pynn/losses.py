"""Keras-style losses: pure functions returning one value per sample, and thin classes
that reduce them ("sum_over_batch_size", Keras' default: the mean over samples).

Formulas are Keras 3's (probabilities are clipped to [1e-7, 1 - 1e-7] before a
log). The classes send cross-entropies from logits to the fused kernels
(softmax_cross_entropy, sigmoid_binary_cross_entropy): one pass for the loss
and its gradient.
"""

import numpy as np

from . import ops
from .utils import snake_case
from .tensor import tensor as _tensor

__all__ = [
    "mean_squared_error", "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "cosine_similarity", "huber",
    "Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "KLDivergence", "CosineSimilarity", "Huber", "get",
]

EPSILON = 1e-7


# Note [Target rank]
# Keras brings the targets to the prediction's rank before any loss or metric: a
# trailing size-1 axis is squeezed from, or added to, whichever side has one rank
# more. Without it a (n,) target against a Dense(1) output (n, 1) broadcasts to
# (n, n) and the model trains silently wrong. `match_rank` is that rule, and
# `sparse_labels` its form for class indices (labels (n, 1) or (n,) against
# scores (n, classes)); every loss, metric and the compiled training step use
# these two. They only read .ndim/.shape and call .reshape, so they work on
# Tensors (recorded on the tape) and NumPy arrays alike.


def match_rank(x1, x2, expand_rank_1=True):
    """x1 and x2 with their ranks made equal when they differ by one and the longer one
    ends in a size-1 axis: that axis is squeezed, or, when the shorter one is 1-D and
    expand_rank_1, a size-1 axis is added to the shorter one (Keras'
    squeeze_or_expand_to_same_rank). Any other pair is returned unchanged."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.reshape(tuple(x2.shape) + (1,))
        else:
            x1 = x1.reshape(tuple(x1.shape[:-1]))
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.reshape(tuple(x1.shape) + (1,))
        else:
            x2 = x2.reshape(tuple(x2.shape[:-1]))
    return x1, x2


def sparse_labels(labels, scores_shape, op):
    """Class-index labels for scores of shape (..., classes): labels of shape (..., 1) lose
    their last axis; any other shape than scores_shape[:-1] is a ValueError naming op."""
    scores_shape = tuple(scores_shape)
    if labels.ndim == len(scores_shape) and labels.ndim and labels.shape[-1] == 1:
        labels = labels.reshape(tuple(labels.shape[:-1]))
    if not scores_shape or tuple(labels.shape) != scores_shape[:-1]:
        raise ValueError(f"{op}: the labels must have the shape of the predictions without their last axis "
                         f"(or with a last axis of 1): labels {tuple(labels.shape)}, predictions {scores_shape}")
    return labels


def _pair(y_true, y_pred, op, same_shape=False):
    """y_true and y_pred as tensors of the prediction's float dtype, at the same rank (Note
    [Target rank]); a ValueError naming op when their shapes do not broadcast together (or,
    with same_shape, differ: Keras' cross-entropies require equal shapes)."""
    y_pred = ops._as_tensor(y_pred)
    y_true = ops._as_tensor(y_true)
    if y_pred.dtype.is_floating_point and y_true.dtype != y_pred.dtype:
        y_true = y_true.astype(y_pred.dtype)
    y_true, y_pred = match_rank(y_true, y_pred)
    check_shapes(op, y_true.shape, y_pred.shape, same_shape)
    return y_true, y_pred


def check_shapes(op, true_shape, pred_shape, same_shape=False):
    """ValueError naming op and both shapes when the target and prediction shapes do not fit."""
    if tuple(true_shape) == tuple(pred_shape):
        return
    fits = not same_shape
    if fits:
        try:
            np.broadcast_shapes(tuple(true_shape), tuple(pred_shape))
        except ValueError:
            fits = False
    if not fits:
        need = "the same shape" if same_shape else "shapes that broadcast together"
        raise ValueError(f"{op}: y_true and y_pred must have {need}: y_true {tuple(true_shape)}, "
                         f"y_pred {tuple(pred_shape)}")


def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """mean over the last axis of -(t log p + (1 - t) log(1 - p)); from logits:
    max(x, 0) - x t + log(1 + exp(-|x|))."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_crossentropy", same_shape=True)
    if from_logits:
        x = y_pred
        terms = ops.add(ops.subtract(ops.relu(x), ops.multiply(x, y_true)),
                        ops.log(ops.add(ops.exp(ops.negative(ops.abs(x))), 1)))
    else:
        p = ops.clip(y_pred, EPSILON, 1 - EPSILON)
        terms = ops.negative(ops.add(ops.multiply(y_true, ops.log(p)),
                                     ops.multiply(ops.subtract(1, y_true), ops.log(ops.subtract(1, p)))))
    return ops.mean(terms, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """-sum(t log p) over `axis` with p = y_pred / sum(y_pred) clipped, or log_softmax of logits."""
    y_true, y_pred = _pair(y_true, y_pred, "categorical_crossentropy", same_shape=True)
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=axis)
    else:
        p = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
        log_p = ops.log(ops.clip(p, EPSILON, 1 - EPSILON))
    return ops.negative(ops.sum(ops.multiply(y_true, log_p), axis=axis))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-log p[label] per sample for integer labels (batch,) and predictions (batch, classes)."""
    y_pred = ops._as_tensor(y_pred)
    labels = sparse_labels(ops._as_tensor(y_true), y_pred.shape, "sparse_categorical_crossentropy").astype("int64")
    onehot = _tensor(np.eye(y_pred.shape[-1], dtype=y_pred.dtype.dtype)[np.asarray(labels)])
    return categorical_crossentropy(onehot, y_pred, from_logits=from_logits)


def kl_divergence(y_true, y_pred):
    """sum(t log(t / p)) over the last axis, both clipped to [1e-7, 1]."""
    y_true, y_pred = _pair(y_true, y_pred, "kl_divergence")
    t = ops.clip(y_true, EPSILON, 1)
    p = ops.clip(y_pred, EPSILON, 1)
    return ops.sum(ops.multiply(t, ops.log(ops.divide(t, p))), axis=-1)


def _l2_normalize(x, axis):
    return ops.divide(x, ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12)))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(normalize(t) * normalize(p)) over `axis` (Keras' loss is the negative similarity)."""
    y_true, y_pred = _pair(y_true, y_pred, "cosine_similarity")
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_true, axis), _l2_normalize(y_pred, axis)), axis=axis))


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2."""
    y_true, y_pred = _pair(y_true, y_pred, "huber")
    e = ops.subtract(y_pred, y_true)
    a = ops.abs(e)
    quadratic = ops.multiply(ops.square(e), 0.5)
    linear = ops.subtract(ops.multiply(a, delta), 0.5 * delta * delta)
    return ops.mean(ops.where(ops.less_equal(a, delta), quadratic, linear), axis=-1)


class Loss:
    """A loss function with a reduction: "sum_over_batch_size" (the mean, Keras' default),
    "sum", or None (one value per sample)."""

    fn = None

    def __init__(self, reduction="sum_over_batch_size", name=None, **kwargs):
        if reduction not in ("sum_over_batch_size", "sum", None, "none"):
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}")
        self.reduction = None if reduction == "none" else reduction
        self.name = name or snake_case(type(self).__name__)
        self.kwargs = kwargs

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, **self.kwargs)

    def __call__(self, y_true, y_pred):
        values = self.call(y_true, y_pred)
        if self.reduction is None:
            return values
        return ops.sum(values) if self.reduction == "sum" else ops.mean(values)

    def get_config(self):
        return dict(self.kwargs, reduction=self.reduction, name=self.name)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanSquaredError(Loss):
    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(Loss):
    fn = staticmethod(mean_absolute_error)


class KLDivergence(Loss):
    fn = staticmethod(kl_divergence)


class CosineSimilarity(Loss):
    fn = staticmethod(cosine_similarity)


class Huber(Loss):
    fn = staticmethod(huber)


def _logits(y_pred, kwargs):
    """The logits to compute a cross-entropy from: y_pred itself with from_logits, or the logits
    a softmax / sigmoid output keeps (Note [Logits behind probabilities] in activations.py)."""
    if kwargs.get("from_logits"):
        return ops._as_tensor(y_pred)
    return getattr(y_pred, "_keras_logits", None)


class BinaryCrossentropy(Loss):
    fn = staticmethod(binary_crossentropy)

    def __call__(self, y_true, y_pred):
        logits = _logits(y_pred, self.kwargs)
        if logits is not None and self.reduction == "sum_over_batch_size":
            y_true, logits = _pair(y_true, logits, self.name, same_shape=True)
            return ops.sigmoid_binary_cross_entropy(logits, y_true)  # fused
        return super().__call__(y_true, y_pred)


class CategoricalCrossentropy(Loss):
    fn = staticmethod(categorical_crossentropy)

    def __call__(self, y_true, y_pred):
        logits = _logits(y_pred, self.kwargs)
        if logits is not None and self.reduction == "sum_over_batch_size" and logits.ndim == 2:
            return ops.softmax_cross_entropy(logits, _pair(y_true, logits, self.name, same_shape=True)[0])  # fused
        return super().__call__(y_true, y_pred)


class SparseCategoricalCrossentropy(Loss):
    fn = staticmethod(sparse_categorical_crossentropy)

    def __call__(self, y_true, y_pred):
        logits = _logits(y_pred, self.kwargs)
        if logits is not None and self.reduction == "sum_over_batch_size" and logits.ndim == 2:
            labels = sparse_labels(ops._as_tensor(y_true), logits.shape, self.name)
            if labels.dtype.is_floating_point:  # float class indices (e.g. from a DataFrame), as Keras casts them
                labels = labels.astype("int64")
            return ops.softmax_cross_entropy(logits, labels)  # fused
        return super().__call__(y_true, y_pred)


_BY_NAME = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "cosine_similarity": CosineSimilarity, "huber": Huber,
}


def get(identifier):
    """A loss object from a name ("sparse_categorical_crossentropy", "mse", ...), a Loss, or a callable."""
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, str)):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown loss {identifier!r}; expected one of {sorted(_BY_NAME)} or a callable")
