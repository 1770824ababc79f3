"""Keras-style losses: pure functions returning one value per sample, and thin classes
that weight and reduce them (Note [Loss reduction]).

Formulas and defaults are Keras 3's (probabilities are clipped to [1e-7, 1 - 1e-7]
before a log). The cross-entropy classes send logits to the fused kernels
(softmax_cross_entropy, sigmoid_binary_cross_entropy: one pass for the loss and
its gradient) when no sample weight is given and the reduction is the mean;
label smoothing smooths the targets before the kernel.

Left out on purpose: CTC and Circle (they need sequence / embedding machinery
pynn does not have).
"""

import numpy as np

from . import _core, ops
from .utils import snake_case
from .tensor import tensor as _tensor

__all__ = [
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh", "hinge", "squared_hinge",
    "categorical_hinge", "kl_divergence", "poisson", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_crossentropy", "categorical_focal_crossentropy", "sparse_categorical_crossentropy", "dice",
    "tversky", "categorical_generalized_cross_entropy",
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "CosineSimilarity", "Huber", "LogCosh", "Hinge", "SquaredHinge",
    "CategoricalHinge", "KLDivergence", "Poisson", "BinaryCrossentropy", "BinaryFocalCrossentropy",
    "CategoricalCrossentropy", "CategoricalFocalCrossentropy", "SparseCategoricalCrossentropy", "Dice", "Tversky",
    "CategoricalGeneralizedCrossEntropy", "reduce_weighted_values", "get",
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


def _float_dtype(y_pred, dtype=None):
    """The dtype a loss computes in: `dtype` when given, else the prediction's float dtype,
    float32 for integer predictions (Keras' floatx)."""
    if dtype is not None:
        return dtype
    return y_pred.dtype if y_pred.dtype.is_floating_point else "float32"


def _pair(y_true, y_pred, op, same_shape=False):
    """y_true and y_pred as tensors of the prediction's float dtype (float32 for integer
    predictions), at the same rank (Note [Target rank]); a ValueError naming op when their
    shapes do not broadcast together (or, with same_shape, differ: Keras' cross-entropies
    require equal shapes)."""
    y_pred = ops._as_tensor(y_pred, op)
    y_true = ops._as_tensor(y_true, op)
    dtype = _float_dtype(y_pred)
    if y_pred.dtype != dtype:
        y_pred = y_pred.astype(dtype)
    if y_true.dtype != dtype:
        y_true = y_true.astype(dtype)
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


def _cast(x, dtype):
    """x in dtype; the gradient flows back through the cast (cast back to x's dtype)."""
    x = ops._as_tensor(x)
    if x.dtype == dtype:
        return x
    y = x.astype(dtype)
    if ops._recording() and x.dtype.is_floating_point:
        ops.record(lambda g, ins, out, _: (g.astype(ins[0].dtype),), (x,), y)
    return y


def _softplus(x):
    """log(1 + exp(x)) as max(x, 0) + log(1 + exp(-|x|)): never overflows."""
    return ops.add(ops.relu(x), ops.log(ops.add(ops.exp(ops.negative(ops.abs(x))), 1)))


def _axis(axis, ndim, op):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis must be an int in [-{ndim}, {ndim}), got {axis!r}")
    return int(axis) % ndim


# ---------------------------------------------------------------- regression

def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    diff = ops.abs(ops.divide(ops.subtract(y_true, y_pred), ops.maximum(ops.abs(y_true), EPSILON)))
    return ops.multiply(ops.mean(diff, axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    first = ops.log(ops.add(ops.maximum(y_pred, EPSILON), 1.0))
    second = ops.log(ops.add(ops.maximum(y_true, EPSILON), 1.0))
    return ops.mean(ops.square(ops.subtract(first, second)), axis=-1)


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


def log_cosh(y_true, y_pred):
    """mean over the last axis of log(cosh(e)), e = y_pred - y_true, as e + softplus(-2e) - log 2."""
    y_true, y_pred = _pair(y_true, y_pred, "log_cosh")
    e = ops.subtract(y_pred, y_true)
    return ops.mean(ops.subtract(ops.add(e, _softplus(ops.multiply(e, -2.0))), float(np.log(2.0))), axis=-1)


# ---------------------------------------------------------------- hinge

def _hinge_labels(y_true):
    """Targets in {0, 1} become {-1, 1}; any other targets are kept (Keras)."""
    t = np.asarray(y_true)
    if np.all((t == 0) | (t == 1)):
        return ops.subtract(ops.multiply(y_true, 2.0), 1.0)
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 - t * y_pred, 0)) over the last axis; targets in {0, 1} are read as {-1, 1}."""
    y_true, y_pred = _pair(y_true, y_pred, "hinge")
    return ops.mean(ops.relu(ops.subtract(1.0, ops.multiply(_hinge_labels(y_true), y_pred))), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - t * y_pred, 0)^2) over the last axis; targets in {0, 1} are read as {-1, 1}."""
    y_true, y_pred = _pair(y_true, y_pred, "squared_hinge")
    return ops.mean(ops.square(ops.relu(ops.subtract(1.0, ops.multiply(_hinge_labels(y_true), y_pred)))), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - t) * p) - sum(t * p) + 1, 0) over the last axis (one-hot targets)."""
    y_true, y_pred = _pair(y_true, y_pred, "categorical_hinge")
    pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.relu(ops.add(ops.subtract(neg, pos), 1.0))


# ---------------------------------------------------------------- probabilistic

def kl_divergence(y_true, y_pred):
    """sum(t log(t / p)) over the last axis, both clipped to [1e-7, 1]."""
    y_true, y_pred = _pair(y_true, y_pred, "kl_divergence")
    t = ops.clip(y_true, EPSILON, 1)
    p = ops.clip(y_pred, EPSILON, 1)
    return ops.sum(ops.multiply(t, ops.log(ops.divide(t, p))), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "poisson")
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, ops.log(ops.add(y_pred, EPSILON)))), axis=-1)


def _smooth_binary(y_true, label_smoothing):
    if not label_smoothing:
        return y_true
    return ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)


def _smooth_categorical(y_true, label_smoothing, classes):
    if not label_smoothing:
        return y_true
    return ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / classes)


def _bce_terms(y_true, y_pred, from_logits):
    """The element-wise binary cross-entropy."""
    if from_logits:
        x = y_pred
        return ops.add(ops.subtract(ops.relu(x), ops.multiply(x, y_true)),
                       ops.log(ops.add(ops.exp(ops.negative(ops.abs(x))), 1)))
    p = ops.clip(y_pred, EPSILON, 1 - EPSILON)
    return ops.negative(ops.add(ops.multiply(y_true, ops.log(p)),
                                ops.multiply(ops.subtract(1, y_true), ops.log(ops.subtract(1, p)))))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of -(t log p + (1 - t) log(1 - p)); from logits:
    max(x, 0) - x t + log(1 + exp(-|x|)). label_smoothing s: t -> t (1 - s) + s / 2."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_crossentropy", same_shape=True)
    y_true = _smooth_binary(y_true, label_smoothing)
    return ops.mean(_bce_terms(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of (1 - p_t)^gamma * bce, p_t = t p + (1 - t)(1 - p); with
    apply_class_balancing also times alpha t + (1 - alpha)(1 - t). Logits go through a sigmoid first."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_focal_crossentropy", same_shape=True)
    y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = _bce_terms(y_true, y_pred, False)
    p_t = ops.add(ops.multiply(y_true, y_pred), ops.multiply(ops.subtract(1.0, y_true), ops.subtract(1.0, y_pred)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), gamma), bce)
    if apply_class_balancing:
        focal = ops.multiply(ops.add(ops.multiply(y_true, alpha), ops.multiply(ops.subtract(1.0, y_true), 1 - alpha)),
                             focal)
    return ops.mean(focal, axis=axis)


def _log_probs(y_pred, from_logits, axis):
    """log of the class probabilities: log_softmax of logits, or log(clip(p / sum(p)))."""
    if from_logits:
        return ops.log_softmax(y_pred, axis=axis)
    p = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    return ops.log(ops.clip(p, EPSILON, 1 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(t log p) over `axis` with p = y_pred / sum(y_pred) clipped, or log_softmax of logits.
    label_smoothing s: t -> t (1 - s) + s / classes."""
    y_true, y_pred = _pair(y_true, y_pred, "categorical_crossentropy", same_shape=True)
    axis = _axis(axis, y_pred.ndim, "categorical_crossentropy")
    y_true = _smooth_categorical(y_true, label_smoothing, y_pred.shape[axis])
    return ops.negative(ops.sum(ops.multiply(y_true, _log_probs(y_pred, from_logits, axis)), axis=axis))


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """sum over `axis` of -alpha (1 - p)^gamma t log p, p = y_pred / sum(y_pred) clipped
    (softmax of logits first)."""
    y_true, y_pred = _pair(y_true, y_pred, "categorical_focal_crossentropy", same_shape=True)
    axis = _axis(axis, y_pred.ndim, "categorical_focal_crossentropy")
    y_true = _smooth_categorical(y_true, label_smoothing, y_pred.shape[axis])
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    p = ops.clip(ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True)), EPSILON, 1 - EPSILON)
    cce = ops.negative(ops.multiply(y_true, ops.log(p)))
    weight = ops.multiply(ops.power(ops.subtract(1.0, p), gamma), alpha)
    return ops.sum(ops.multiply(weight, cce), axis=axis)


def _class_indices(y_true, y_pred, op, axis=-1, ignore_class=None):
    """(scores with the class axis last, int64 class indices, valid mask or None), as tensors.
    Labels with a size-1 class axis lose it; float labels are cast (Keras casts them);
    indices outside [0, classes) other than ignore_class are a ValueError naming op."""
    y_pred = ops._as_tensor(y_pred, op)
    if not y_pred.dtype.is_floating_point:
        y_pred = y_pred.astype("float32")
    labels = ops._as_tensor(y_true, op)
    axis = _axis(axis, y_pred.ndim, op)
    if labels.ndim == y_pred.ndim and labels.shape[axis] == 1:
        labels = ops.squeeze(labels, axis)
    if axis != y_pred.ndim - 1:
        y_pred = ops.transpose(y_pred, tuple(i for i in range(y_pred.ndim) if i != axis) + (axis,))
    labels = sparse_labels(labels, y_pred.shape, op)
    if labels.dtype != "int64":
        labels = labels.astype("int64")  # float labels truncate, as NumPy's astype
    valid = None
    if ignore_class is not None:
        valid = ops.not_equal(labels, ignore_class)
        labels = ops.where(valid, labels, 0)
    _core._check_labels(labels, y_pred.shape[-1], op)  # a kernel call: checked at every replay too
    return y_pred, labels, valid


def _one_hot(labels, classes, dtype):
    """Rows of the identity (classes, classes) picked by int64 labels, as tensor ops."""
    return ops.equal(ops.expand_dims(labels, -1), _tensor(np.arange(classes))).astype(dtype)


def _sparse_xent(y_true, y_pred, from_logits, ignore_class, axis):
    y_pred, labels, valid = _class_indices(y_true, y_pred, "sparse_categorical_crossentropy", axis, ignore_class)
    onehot = _one_hot(labels, y_pred.shape[-1], y_pred.dtype)
    res = ops.negative(ops.sum(ops.multiply(onehot, _log_probs(y_pred, from_logits, -1)), axis=-1))
    if valid is not None:
        res = ops.where(valid, res, 0.0)
    return res, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] per sample for integer labels (...,) and predictions with classes on `axis`;
    labels equal to ignore_class give 0."""
    return _sparse_xent(y_true, y_pred, from_logits, ignore_class, axis)[0]


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p[label]^q) / q for integer labels, 0 < q < 1 (Zhang & Sabuncu, 2018)."""
    y_pred, labels, _ = _class_indices(y_true, y_pred, "categorical_generalized_cross_entropy")
    onehot = _one_hot(labels, y_pred.shape[-1], y_pred.dtype)
    p = ops.sum(ops.multiply(y_pred, onehot), axis=-1)
    return ops.divide(ops.subtract(1.0, ops.power(p, q)), q)


# ---------------------------------------------------------------- segmentation

def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(t p) / (sum(t) + sum(p) + 1e-7), the sums over `axis` (None: everything)."""
    y_true, y_pred = _pair(y_true, y_pred, "dice")
    inter = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    denom = ops.add(ops.add(ops.sum(y_true, axis=axis), ops.sum(y_pred, axis=axis)), EPSILON)
    return ops.subtract(1.0, ops.divide(ops.multiply(inter, 2.0), denom))


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN + 1e-7) with soft counts TP = sum(t p),
    FP = sum((1 - t) p), FN = sum(t (1 - p)) over `axis` (None: everything)."""
    y_true, y_pred = _pair(y_true, y_pred, "tversky")
    tp = ops.sum(ops.multiply(y_pred, y_true), axis=axis)
    fp = ops.sum(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=axis)
    fn = ops.sum(ops.multiply(y_true, ops.subtract(1.0, y_pred)), axis=axis)
    denom = ops.add(ops.add(ops.add(tp, ops.multiply(fp, alpha)), ops.multiply(fn, beta)), EPSILON)
    return ops.subtract(1.0, ops.divide(tp, denom))


# ---------------------------------------------------------------- reduction

# Note [Loss reduction]
# Loss.__call__(y_true, y_pred, sample_weight=None) follows Keras 3: `call` gives
# the per-sample values; a mask (SparseCategoricalCrossentropy's ignore_class)
# joins the sample weights, scaled so that "sum_over_batch_size" averages over the
# valid entries only; the weights are brought to the values' rank (Note [Target
# rank]) and broadcast against them; then the reduction: None / "none" keeps the
# weighted values, "sum" sums them, "sum_over_batch_size" and "mean" divide the
# sum by the number of values, "mean_with_sample_weight" by the sum of the
# weights (0 when the divisor is 0, never NaN). A scalar result (Dice, Tversky
# with axis=None) is returned as it is.

_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", op="loss"):
    """Weights (and a mask) applied to per-sample loss values and the reduction applied
    (Note [Loss reduction])."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: invalid reduction {reduction!r}; expected one of {_REDUCTIONS}")
    values = ops._as_tensor(values)
    dtype = values.dtype
    if sample_weight is not None:
        if isinstance(sample_weight, ops.Tensor):
            sample_weight = sample_weight.astype(dtype) if sample_weight.dtype != dtype else sample_weight
        else:  # straight to the values' dtype (a Python 1.7 never passes through float32)
            sample_weight = _tensor(np.asarray(sample_weight, dtype=dtype.dtype))
    if mask is not None:
        # Tensor ops, not NumPy: a captured step replays them (Note [Captured steps]).
        mask = ops._as_tensor(mask, op)
        if mask.dtype != "bool":
            mask = mask.astype("bool")
        if reduction in ("mean", "sum_over_batch_size"):
            valid = ops.sum(mask)
            scale = ops.where(ops.greater(valid, 0), ops.divide(mask.size, ops.maximum(valid, 1)), 0.0)
            float_mask = ops.where(mask, scale, 0.0)
        else:
            float_mask = mask.astype("float64")
        float_mask = float_mask.astype(dtype)
        if sample_weight is not None:
            float_mask, sample_weight = match_rank(float_mask, sample_weight)
            sample_weight = ops.multiply(sample_weight, float_mask)
        else:
            sample_weight = float_mask
    if sample_weight is not None:
        values, sample_weight = match_rank(values, sample_weight)
        try:
            np.broadcast_shapes(tuple(values.shape), tuple(sample_weight.shape))
        except ValueError:
            raise ValueError(f"{op}: sample_weight of shape {tuple(sample_weight.shape)} does not broadcast to the "
                             f"loss values of shape {tuple(values.shape)}") from None
        values = ops.multiply(values, sample_weight)
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(ops.sum(sample_weight))
    else:
        divisor = float(values.size)
    return ops.divide(total, divisor) if divisor else ops.multiply(total, 0.0)


# ---------------------------------------------------------------- classes

class Loss:
    """A loss: `call(y_true, y_pred)` gives per-sample values, `__call__(y_true, y_pred,
    sample_weight=None)` weights and reduces them (Note [Loss reduction]).

    reduction: "sum_over_batch_size" (Keras' default), "sum", "mean",
    "mean_with_sample_weight", "none" or None. dtype: the dtype both inputs are cast to
    (None: the prediction's float dtype, float32 for integer predictions)."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: invalid reduction {reduction!r}; expected one of "
                             f"{_REDUCTIONS}")
        self.reduction = None if reduction == "none" else reduction
        self.name = name or snake_case(type(self).__name__)
        self.dtype = None if dtype is None else str(np.dtype(dtype))

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}: a Loss subclass implements call(y_true, y_pred)")

    def _call_masked(self, y_true, y_pred):
        """(per-sample values, mask of valid entries or None)."""
        return self.call(y_true, y_pred), None

    def _inputs(self, y_true, y_pred):
        y_pred = ops._as_tensor(y_pred, self.name)
        dtype = _float_dtype(y_pred, self.dtype)
        y_pred = _cast(y_pred, dtype)
        y_true = ops._as_tensor(y_true, self.name)
        if y_true.dtype != dtype:
            y_true = y_true.astype(dtype)  # as Keras: targets in the loss's dtype too (class indices included)
        return y_true, y_pred

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._inputs(y_true, y_pred)
        values, mask = self._call_masked(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.name)

    def get_config(self):
        config = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss from a function fn(y_true, y_pred, **kwargs) giving per-sample values."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self.kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self.kwargs)
        if type(self) is LossFunctionWrapper:
            config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        return config

    @classmethod
    def from_config(cls, config):
        if cls is LossFunctionWrapper:
            config = dict(config)
            fn = config.pop("fn", None)
            fn = globals().get(fn) if isinstance(fn, str) and fn in __all__ else fn
            if not callable(fn):
                raise ValueError(f"LossFunctionWrapper.from_config: unknown loss function {fn!r}")
            return cls(fn, **config)
        return cls(**config)


def _wrapper(cls_name, fn, default_name, params, doc):
    """A LossFunctionWrapper subclass with Keras' constructor: params (name, default) pairs
    first, then reduction, name, dtype."""
    names = [p for p, _ in params]
    defaults = dict(params)

    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, dtype=None, **kwargs):
        order = names + ["reduction", "name", "dtype"]
        if len(args) > len(order):
            raise TypeError(f"{cls_name}() takes at most {len(order)} positional arguments ({len(args)} given)")
        given = dict(zip(order, args))
        for k in ("reduction", "name", "dtype"):
            if k in given and k in kwargs:
                raise TypeError(f"{cls_name}() got multiple values for argument {k!r}")
        unknown = set(kwargs) - set(names) - {"reduction", "name", "dtype"}
        if unknown:
            raise TypeError(f"{cls_name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        for k in names:
            if k in given and k in kwargs:
                raise TypeError(f"{cls_name}() got multiple values for argument {k!r}")
        values = {k: kwargs.get(k, given.get(k, defaults[k])) for k in names}
        self._check(values)
        LossFunctionWrapper.__init__(self, type(self)._function, reduction=given.get("reduction", reduction),
                                     name=given.get("name", name), dtype=given.get("dtype", dtype), **values)

    sig = ", ".join(f"{k}={v!r}" for k, v in params)
    doc = f"{doc}\n\n    {cls_name}({sig}{', ' if sig else ''}reduction='sum_over_batch_size', " \
          f"name={default_name!r}, dtype=None)"
    return type(cls_name, (LossFunctionWrapper,), {
        "__init__": __init__, "__doc__": doc, "_function": staticmethod(fn), "_check": lambda self, v: None,
        "__module__": __name__})


MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error, "mean_squared_error", [],
                            "The mean of the squared errors.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error", [],
                             "The mean of the absolute errors.")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error", [],
                                       "100 times the mean of |y_true - y_pred| / |y_true|.")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error", [],
                                       "The mean squared error of log(1 + y).")
CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, "cosine_similarity", [("axis", -1)],
                            "The negative cosine similarity along `axis`.")
Huber = _wrapper("Huber", huber, "huber_loss", [("delta", 1.0)],
                 "Quadratic for errors up to delta, linear beyond.")
LogCosh = _wrapper("LogCosh", log_cosh, "log_cosh", [], "The mean of log(cosh(error)).")
Hinge = _wrapper("Hinge", hinge, "hinge", [], "The mean of max(1 - t y, 0), targets -1/1 (or 0/1).")
SquaredHinge = _wrapper("SquaredHinge", squared_hinge, "squared_hinge", [],
                        "The mean of max(1 - t y, 0)^2, targets -1/1 (or 0/1).")
CategoricalHinge = _wrapper("CategoricalHinge", categorical_hinge, "categorical_hinge", [],
                            "max(max over wrong classes - true class score + 1, 0).")
KLDivergence = _wrapper("KLDivergence", kl_divergence, "kl_divergence", [],
                        "The Kullback-Leibler divergence sum(t log(t / p)).")
Poisson = _wrapper("Poisson", poisson, "poisson", [], "The mean of y_pred - y_true log(y_pred).")
BinaryFocalCrossentropy = _wrapper(
    "BinaryFocalCrossentropy", binary_focal_crossentropy, "binary_focal_crossentropy",
    [("apply_class_balancing", False), ("alpha", 0.25), ("gamma", 2.0), ("from_logits", False),
     ("label_smoothing", 0.0), ("axis", -1)], "Binary cross-entropy down-weighting easy examples.")
CategoricalFocalCrossentropy = _wrapper(
    "CategoricalFocalCrossentropy", categorical_focal_crossentropy, "categorical_focal_crossentropy",
    [("alpha", 0.25), ("gamma", 2.0), ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)],
    "Categorical cross-entropy down-weighting easy examples.")
Dice = _wrapper("Dice", dice, "dice", [("axis", None)], "1 - the Dice coefficient.")
Tversky = _wrapper("Tversky", tversky, "tversky", [("alpha", 0.5), ("beta", 0.5), ("axis", None)],
                   "1 - the Tversky index.")
CategoricalGeneralizedCrossEntropy = _wrapper(
    "CategoricalGeneralizedCrossEntropy", categorical_generalized_cross_entropy,
    "categorical_generalized_cross_entropy", [("q", 0.5)],
    "The generalized cross-entropy (1 - p^q) / q of integer labels, robust to label noise.")


def _check_q(self, values):
    if not 0 < values["q"] < 1:
        raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in (0, 1), got {values['q']!r}")


CategoricalGeneralizedCrossEntropy._check = _check_q


def _logits(y_pred, kwargs, activation):
    """The logits to compute a cross-entropy from: y_pred itself with from_logits, or the logits
    an output of `activation` ("softmax" or "sigmoid") keeps (Note [Logits behind
    probabilities] in activations.py); None for any other y_pred."""
    if kwargs.get("from_logits"):
        return ops._as_tensor(y_pred)
    if getattr(y_pred, "_keras_logits_of", None) != activation:
        return None
    return getattr(y_pred, "_keras_logits", None)


class _CrossEntropy(LossFunctionWrapper):
    """A cross-entropy that reads the logits behind softmax / sigmoid outputs and sends
    unweighted mean reductions to a fused kernel (`_fused`)."""

    _activation = "softmax"  # the output activation whose logits this loss may read

    def __call__(self, y_true, y_pred, sample_weight=None):
        logits = _logits(y_pred, self.kwargs, self._activation)
        if logits is not None:
            if sample_weight is None and self.reduction in ("sum_over_batch_size", "mean") and self.dtype is None:
                fused = self._fused(y_true, logits)
                if fused is not None:
                    return fused
            if not self.kwargs.get("from_logits"):  # probabilities with their logits: use the logits
                y_true, logits = self._inputs(y_true, logits)
                values, mask = self._values(y_true, logits, dict(self.kwargs, from_logits=True))
                return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.name)
        return super().__call__(y_true, y_pred, sample_weight)

    def _call_masked(self, y_true, y_pred):
        return self._values(y_true, y_pred, self.kwargs)

    def _values(self, y_true, y_pred, kwargs):
        return self.fn(y_true, y_pred, **kwargs), None


class BinaryCrossentropy(_CrossEntropy):
    """The mean binary cross-entropy; label_smoothing s: t -> t (1 - s) + s / 2."""

    _activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)

    def _fused(self, y_true, logits):
        y_true, logits = _pair(y_true, logits, self.name, same_shape=True)
        return ops.sigmoid_binary_cross_entropy(logits, _smooth_binary(y_true, self.kwargs["label_smoothing"]))


class CategoricalCrossentropy(_CrossEntropy):
    """The categorical cross-entropy of one-hot (or probability) targets; label_smoothing s:
    t -> t (1 - s) + s / classes."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)

    def _fused(self, y_true, logits):
        if logits.ndim != 2 or self.kwargs["axis"] not in (-1, 1):
            return None
        y_true = _pair(y_true, logits, self.name, same_shape=True)[0]
        return ops.softmax_cross_entropy(logits, _smooth_categorical(y_true, self.kwargs["label_smoothing"],
                                                                     logits.shape[1]))


class SparseCategoricalCrossentropy(_CrossEntropy):
    """The cross-entropy of integer class labels; labels equal to ignore_class count for
    nothing, and the mean is over the others."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def _fused(self, y_true, logits):
        if logits.ndim != 2 or self.kwargs["axis"] not in (-1, 1) or self.kwargs["ignore_class"] is not None:
            return None
        labels = sparse_labels(ops._as_tensor(y_true, self.name), logits.shape, self.name)
        if labels.dtype.is_floating_point:  # float class indices (e.g. from a DataFrame), as Keras casts them
            labels = labels.astype("int64")
        return ops.softmax_cross_entropy(logits, labels)  # fused

    def _values(self, y_true, y_pred, kwargs):
        return _sparse_xent(y_true, y_pred, kwargs["from_logits"], kwargs["ignore_class"], kwargs["axis"])


_CLASSES = [MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
            BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy,
            SparseCategoricalCrossentropy, Dice, Tversky, CategoricalGeneralizedCrossEntropy]
_BY_NAME = {snake_case(c.__name__): c for c in _CLASSES}
_BY_NAME.update({c.__name__.lower(): c for c in _CLASSES})
_BY_NAME.update({
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "kld": KLDivergence, "kl_divergence": KLDivergence, "bce": BinaryCrossentropy,
    "kullback_leibler_divergence": KLDivergence, "logcosh": LogCosh, "log_cosh": LogCosh, "huber": Huber,
    "huber_loss": Huber, "categorical_generalized_cross_entropy": CategoricalGeneralizedCrossEntropy,
})


def get(identifier):
    """A loss object from a name ("sparse_categorical_crossentropy", "mse", "Huber", ...), a
    {"class_name", "config"} dict, a Loss, or a callable."""
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, (str, type))):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _BY_NAME.get(str(identifier["class_name"]).lower())
        if cls is not None:
            return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"losses.get: unknown loss {identifier!r}; expected one of {sorted(_BY_NAME)} or a callable")
