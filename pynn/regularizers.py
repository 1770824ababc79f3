"""Weight and activity regularizers (Keras 3 names, defaults and formulas).

A regularizer is called on a tensor and returns a scalar tensor, the penalty, built from
pynn ops: on a GradientTape its gradient flows back to the weights, and in a captured
step (Note [Captured steps] in csrc/plan/plan.h) it is recorded with the rest. Layers
take them as kernel_regularizer=, bias_regularizer= (stored on the weight by add_weight)
and activity_regularizer= (applied to the layer's outputs); layer.losses lists the
penalties and Model.compute_loss adds them to the compiled loss (Note [Layer losses] in
pynn/layers/base.py).
"""

import contextvars
import inspect
import math
import numbers

import numpy as np

from . import ops
from .tensor import from_numpy, zeros

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


def validate_float_arg(value, name, op="regularizer"):
    """`value` as a float when it is a finite, non-negative number; else ValueError (Keras' rule
    and wording, with the regularizer named)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value < 0):
        raise ValueError(f"{op}: Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """The base class: __call__(x) returns the penalty of x as a scalar tensor (the base's is
    zero); get_config() / from_config() round-trip it. Any callable returning a scalar
    tensor works as a regularizer too."""

    def __call__(self, x):
        x = ops._as_tensor(x, type(self).__name__)
        return zeros((), x.dtype if x.dtype.is_floating_point else "float32")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x ** 2). Defaults 0 (the string "l1_l2" gives 0.01 for both,
    as Keras documents)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        x = ops._as_tensor(x, "L1L2")
        total = None
        if self.l1 != 0.0:
            total = ops.multiply(ops.sum(ops.abs(x)), self.l1)
        if self.l2 != 0.0:
            term = ops.multiply(ops.sum(ops.square(x)), self.l2)
            total = term if total is None else ops.add(total, term)
        return Regularizer.__call__(self, x) if total is None else total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """l1 * sum(|x|), l1 = 0.01 by default."""

    def __init__(self, l1=0.01):
        self.l1 = validate_float_arg(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.abs(ops._as_tensor(x, "L1"))), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x ** 2), l2 = 0.01 by default."""

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.square(ops._as_tensor(x, "L2"))), self.l2)

    def get_config(self):
        return {"l2": self.l2}


_EPSILON = 1e-7  # Keras' backend.epsilon()


def _l2_normalize(x, axis):
    """x / sqrt(max(sum(x ** 2, axis), epsilon ** 2)): Keras' L2 normalize (zero rows stay zero)."""
    squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(squares, _EPSILON * _EPSILON)))


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode="rows") or columns ("columns") of a rank-2 input towards being
    orthogonal: factor * 0.5 * sum(|P - diag(P)|) / (n (n - 1) / 2), P the products of the
    L2-normalized rows (columns), n their number. As in Keras, n = 1 gives NaN (0 / 0)."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = validate_float_arg(factor, "factor", "OrthogonalRegularizer")
        if mode not in {"rows", "columns"}:
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                             f"Received: mode={mode}")
        self.mode = mode

    def __call__(self, inputs):
        x = ops._as_tensor(inputs, "OrthogonalRegularizer")
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={x.shape}")
        if self.mode == "rows":
            x = _l2_normalize(x, 1)
            product, size = ops.matmul(x, ops.transpose(x)), x.shape[0]
        else:
            x = _l2_normalize(x, 0)
            product, size = ops.matmul(ops.transpose(x), x), x.shape[1]
        mask = from_numpy(1.0 - np.eye(size, dtype=product.dtype.dtype))  # a constant, not a kernel's result
        off_diagonal = ops.multiply(product, mask)
        pairs = size * (size - 1.0) / 2.0
        return ops.divide(ops.multiply(ops.sum(ops.abs(off_diagonal)), self.factor * 0.5), pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 3's lower-case names are the classes themselves.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_BY_NAME = {cls.__name__: cls for cls in (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)}
_BY_NAME.update({"regularizer": Regularizer, "l1": L1, "l2": L2, "l1l2": L1L2,
                 "orthogonal_regularizer": OrthogonalRegularizer})
_STRINGS = {"l1_l2": lambda: L1L2(l1=0.01, l2=0.01)}  # Keras' documented default of the string


# ---------------------------------------------------------------- get / serialize / deserialize
# (shared with pynn.constraints: `kind` names the family, `table` its classes by name)

# load_model's custom_objects while it rebuilds layers: a saved custom regularizer or constraint
# class is found there (never imported from the file: Note [Untrusted model files] in saving.py).
_custom_objects = contextvars.ContextVar("pynn_custom_objects", default=None)

def _serialize(kind, obj):
    if obj is None:
        return None
    if not hasattr(obj, "get_config") or inspect.isclass(obj):
        raise ValueError(f"{kind}s.serialize: cannot serialize the {kind} {obj!r}: only objects with get_config() "
                         f"(subclasses of pynn.{kind}s' base class) can be saved")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def _deserialize(kind, table, strings, config, custom_objects=None):
    if custom_objects is None:
        custom_objects = _custom_objects.get()
    if isinstance(config, str):
        if config in strings:
            return strings[config]()
        cls = (custom_objects or {}).get(config) or table.get(config)
        if cls is None:
            raise ValueError(f"Could not interpret {kind} identifier: {config}")
        return cls() if inspect.isclass(cls) else cls
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"{kind}s.deserialize: expected a name or a dict with a class_name and a config, got "
                         f"{config!r:.100}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or table.get(name)
    if cls is None:
        raise ValueError(f"{kind}s.deserialize: unknown {kind} class {name!r}; known: {sorted(table)} (pass others "
                         f"in custom_objects)")
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"{kind}s.deserialize: the config of {name} must be a dict, got {type(inner).__name__}")
    return cls.from_config(inner)


def _get(kind, table, strings, identifier):
    if identifier is None:
        return None
    if isinstance(identifier, (dict, str)):
        obj = _deserialize(kind, table, strings, identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r:.100}")


def serialize(regularizer):
    """A JSON-able dict that get() / deserialize() turn back into the regularizer (None for None)."""
    return _serialize("regularizer", regularizer)


def deserialize(config, custom_objects=None):
    """The regularizer of serialize()'s dict (or of a name); custom_objects maps other class names."""
    return _deserialize("regularizer", _BY_NAME, _STRINGS, config, custom_objects)


def get(identifier):
    """A regularizer from None (None), a name ("l1", "l2", "l1l2" / "l1_l2",
    "orthogonal_regularizer", or a class name), a serialized dict, a class (instantiated
    with its defaults) or any callable (itself)."""
    return _get("regularizer", _BY_NAME, _STRINGS, identifier)
