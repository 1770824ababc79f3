"""Activation functions by name, as Keras resolves them (``Dense(64, activation="relu")``).

Note [Logits behind probabilities]
softmax and sigmoid keep their input on their output as ``y._keras_logits``
(the name Keras uses for the same trick). A cross-entropy loss given such a
probability tensor (losses.py) computes from the logits with the fused,
stable kernel instead, so a softmax output layer trained with
sparse_categorical_crossentropy costs one fused pass for loss and gradient,
and the tape never walks back through the softmax.
"""

from . import ops

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "elu", "selu", "softplus", "softsign",
    "silu", "swish", "leaky_relu", "relu6", "exponential", "get", "serialize",
]


def relu(x):
    return ops.relu(x)


def sigmoid(x):
    x = ops._as_tensor(x)
    y = ops.sigmoid(x)
    y._keras_logits = x
    return y


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    x = ops._as_tensor(x)
    y = ops.softmax(x, axis=axis)
    if axis in (-1, x.ndim - 1):
        y._keras_logits = x
    return y


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def linear(x):
    return x


def elu(x, alpha=1.0):
    """x where x > 0, else alpha (exp(x) - 1)."""
    x = ops._as_tensor(x)
    return ops.where(ops.greater(x, 0), x, ops.multiply(ops.subtract(ops.exp(ops.minimum(x, 0)), 1), alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """scale * elu(x, alpha) with Klambauer et al.'s constants."""
    return ops.multiply(elu(x, _SELU_ALPHA), _SELU_SCALE)


def softplus(x):
    """log(1 + exp(x)), computed as relu(x) + log(1 + exp(-|x|)) so it never overflows."""
    x = ops._as_tensor(x)
    return ops.add(ops.relu(x), ops.log(ops.add(ops.exp(ops.negative(ops.abs(x))), 1)))


def softsign(x):
    """x / (1 + |x|)."""
    return ops.divide(x, ops.add(ops.abs(x), 1))


def silu(x):
    """x * sigmoid(x) (also "swish")."""
    return ops.multiply(x, ops.sigmoid(x))


swish = silu


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, else negative_slope * x (Keras' default slope 0.2)."""
    x = ops._as_tensor(x)
    return ops.where(ops.greater(x, 0), x, ops.multiply(x, negative_slope))


def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.minimum(ops.relu(x), 6)


def exponential(x):
    return ops.exp(x)


_BY_NAME = {fn.__name__: fn for fn in (relu, sigmoid, tanh, softmax, log_softmax, linear, elu, selu, softplus,
                                       softsign, silu, leaky_relu, relu6, exponential)}
_BY_NAME["swish"] = silu


def get(identifier):
    """An activation function from a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"unknown activation {identifier!r}; expected one of {sorted(_BY_NAME)} or a callable")


def serialize(fn):
    """The name get() resolves back to `fn`."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    raise ValueError(f"cannot serialize the activation {fn!r}: only pynn's named activations can be saved")
