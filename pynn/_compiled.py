"""The compiled path of fit, evaluate and predict: which models it covers, and the glue to the
C++ DenseStack (Note [Compiled dense stack] in csrc/kernels/train.h).

It covers a Sequential model of Dense layers (an optional Flatten first; hidden
activations linear, relu, sigmoid or tanh; softmax or linear at the output),
trained with sparse or categorical cross-entropy on the logits (a softmax output
and from_logits=False, or a linear output and from_logits=True), with no metric
but accuracy and an optimizer whose step is exactly its fused update. For such a
model a training step is one C++ call. Everything else, and any model whose
class overrides call, train_step, test_step or compute_loss, takes the Python
path (Note [Training step] in models.py), which is also the reference the
compiled path is tested against.
"""

import math

import numpy as np

from . import _core, activations, losses, metrics
from .layers.core import Dense, Flatten
from .tensor import from_numpy

_A = _core._Activation
_HIDDEN = {activations.linear: _A.linear, activations.relu: _A.relu, activations.sigmoid: _A.sigmoid,
           activations.tanh: _A.tanh}
_OUTPUT = {activations.softmax: _A.softmax, activations.linear: _A.linear}
_LOSSES = {losses.SparseCategoricalCrossentropy: "sparse", losses.CategoricalCrossentropy: "categorical"}
_ACCURACY = {"sparse": metrics.SparseCategoricalAccuracy, "categorical": metrics.CategoricalAccuracy}
# The loss options the stack computes: their defaults only (no label smoothing, no ignored class).
_DEFAULT_OPTIONS = {"sparse": {"ignore_class": None, "axis": -1}, "categorical": {"label_smoothing": 0.0, "axis": -1}}


class Compiled:
    """A model's DenseStack with the arrays of one fit / evaluate / predict call viewed as it
    needs them: x as (samples, features) and y as class indices (samples,) or targets
    (samples, classes)."""

    def __init__(self, stack, x, y):
        self.stack, self.x, self.y = stack, x, y

    def train(self, order, start, stop, scalars):
        return self.stack.train(self.x, self.y, order, start, stop, scalars)

    def evaluate(self, start, stop):
        return self.stack.evaluate(self.x, self.y, start, stop)

    def predict(self, start, stop):
        return np.asarray(self.stack.predict(self.x, start, stop))


def _dense_layers(model):
    """(flatten, dense layers, activations) when the model is a plain stack of Dense layers, else None."""
    from .models import Model, Sequential

    cls = type(model)
    if (not isinstance(model, Sequential) or not model.built or cls.call is not Sequential.call
            or cls.train_step is not Model.train_step or cls.test_step is not Model.test_step
            or cls.compute_loss is not Model.compute_loss):
        return None
    layers = list(model._layers)
    flatten = bool(layers) and type(layers[0]) is Flatten
    if flatten:
        layers = layers[1:]
    if not layers or any(type(layer) is not Dense or not layer.built for layer in layers):
        return None
    acts = [(_OUTPUT if i == len(layers) - 1 else _HIDDEN).get(layer.activation) for i, layer in enumerate(layers)]
    if any(a is None for a in acts) or len({layer.kernel.dtype for layer in layers}) != 1:
        return None
    return flatten, layers, acts


def _stack(model, layers, acts):
    """The model's DenseStack, made once and kept while its layers hold the same variables."""
    key = tuple(v for layer in layers for v in (layer.kernel, layer.bias)) + tuple(acts)
    cached = getattr(model, "_dense_stack", None)
    if cached is not None and len(cached[0]) == len(key) and all(a is b for a, b in zip(cached[0], key)):
        return cached[1]
    stack = _core._DenseStack([layer.kernel for layer in layers], [layer.bias for layer in layers], acts)
    model._dense_stack = (key, stack)
    return stack


def _features(x, flatten, n_in):
    """x as a 2-D (samples, n_in) tensor, or None when its shape does not fit the first Dense
    layer (then the Python path raises its error)."""
    if flatten and x.ndim >= 2 and math.prod(x.shape[1:]) == n_in:
        x = x.reshape(x.shape[0], n_in)
    if x.ndim != 2 or x.shape[1] != n_in or x.dtype == np.bool_:
        return None
    return from_numpy(x)


def _targets(model, y, classes, last_act):
    """y as the stack takes it, or None when the loss or the metrics are not ones it computes."""
    loss = model._loss_fn
    kind = _LOSSES.get(type(loss))
    if kind is None or loss.reduction != "sum_over_batch_size" or loss.dtype is not None:
        return None
    if {k: v for k, v in loss.kwargs.items() if k != "from_logits"} != _DEFAULT_OPTIONS[kind]:
        return None
    if bool(loss.kwargs.get("from_logits")) != (last_act == _A.linear):
        return None  # probabilities read as logits, or the reverse: the Python path computes what was asked
    if any(type(m) is not _ACCURACY[kind] for m in model.metrics):
        return None
    if kind == "sparse":
        try:
            y = losses.sparse_labels(y, (y.shape[0], classes), "fit")  # Note [Target rank]
        except ValueError:
            return None  # the Python path raises the error
        if y.dtype == np.bool_:
            return None
    elif y.shape != (y.shape[0], classes):
        return None
    return from_numpy(y)


def for_model(model, x, y=None, training=False):
    """A Compiled for (model, x, y), or None when the model or the call is not one it covers.

    x and y are the prepared NumPy arrays of a single-input model; y None for predict.
    """
    found = _dense_layers(model)
    if found is None:
        return None
    flatten, layers, acts = found
    if training and not (model.trainable and all(layer.trainable for layer in layers)
                         and model.optimizer._fusable()):
        return None
    xt = _features(x, flatten, layers[0].kernel.shape[0])
    if xt is None:
        return None
    yt = None
    if y is not None:
        yt = _targets(model, y, layers[-1].units, acts[-1])
        if yt is None:
            return None
    stack = _stack(model, layers, acts)
    if training:
        variables = [v for layer in layers for v in (layer.kernel, layer.bias) if v is not None]
        model.optimizer.build(variables)
        stack.set_optimizer(model.optimizer._rule, [model.optimizer._slots_of(v) for v in variables])
    return Compiled(stack, xt, yt)


def update_metrics(model, loss, correct, n):
    """The metrics after a compiled batch of n samples: the loss tracker's running mean (as
    Model._update_metrics) and accuracy's counts."""
    model._loss_tracker.update_state(loss, n)
    for m in model.metrics:
        m.total += correct
        m.count += n
