"""Weight constraints (Keras 3 names, defaults and formulas).

A constraint is called on a weight and returns its projection (clipped, rescaled, ...)
built from pynn ops. Layers take them as kernel_constraint=, bias_constraint= (add_weight
stores them on the weight), and every optimizer, right after it updates a weight, assigns
it its projection: variable.assign(constraint(variable)), as Keras' optimizers do, so a
captured step records that too. Norms are taken over `axis` (an int or a tuple of ints)
with epsilon = 1e-7, Keras' backend.epsilon().
"""

import math
import numbers

from . import ops
from .regularizers import _deserialize, _get, _serialize

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm", "non_neg",
           "unit_norm", "get", "serialize", "deserialize"]

_EPSILON = 1e-7  # Keras' backend.epsilon()


def _number(op, name, value):
    """`value` when it is a real number (not a bool) and not NaN (TypeError / ValueError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r:.60}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{op}: {name} must be a non-negative number, got {value!r}")
    return value


def _axis(op, axis):
    """The axis argument: an int, or a list / tuple of ints (kept as given, for get_config)."""
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in items):
        raise TypeError(f"{op}: axis must be an int or a list of ints, got {axis!r:.60}")
    return axis


def _norms(w, axis):
    """sqrt(sum(w ** 2)) over axis, kept as size-1 axes."""
    return ops.sqrt(ops.sum(ops.square(w), axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


class Constraint:
    """The base class: __call__(w) returns the projected weight (the base's is w itself);
    get_config() / from_config() round-trip it. Any callable w -> tensor works too."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds max_value to that norm:
    w * clip(n, 0, max_value) / (epsilon + n), n = the norms over axis (axis 0: each unit's
    incoming weights of a Dense kernel; [0, 1, 2]: each filter of a Conv2D kernel)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number("MaxNorm", "max_value", max_value)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w):
        w = ops._as_tensor(w, "MaxNorm")
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0, self.max_value)
        return ops.multiply(w, ops.divide(desired, ops.add(norms, _EPSILON)))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0)."""

    def __call__(self, w):
        return ops.maximum(ops._as_tensor(w, "NonNeg"), 0)


class UnitNorm(Constraint):
    """w / (epsilon + n), n the L2 norms over axis: each slice gets unit norm."""

    def __init__(self, axis=0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w):
        w = ops._as_tensor(w, "UnitNorm")
        return ops.divide(w, ops.add(_norms(w, self.axis), _EPSILON))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the L2 norm n of each slice along axis towards [min_value, max_value]:
    w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (epsilon + n); rate 1 is
    strict, a smaller rate moves part of the way at each step."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number("MinMaxNorm", "min_value", min_value)
        self.max_value = _number("MinMaxNorm", "max_value", max_value)
        if min_value > max_value:
            raise ValueError(f"MinMaxNorm: min_value ({min_value}) must not exceed max_value ({max_value})")
        self.rate = _number("MinMaxNorm", "rate", rate)
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w):
        w = ops._as_tensor(w, "MinMaxNorm")
        norms = _norms(w, self.axis)
        desired = ops.add(ops.multiply(ops.clip(norms, self.min_value, self.max_value), self.rate),
                          ops.multiply(norms, 1 - self.rate))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, _EPSILON)))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras 3's lower-case names are the classes themselves.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_BY_NAME = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_BY_NAME.update({"constraint": Constraint, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
                 "unit_norm": UnitNorm})


def serialize(constraint):
    """A JSON-able dict that get() / deserialize() turn back into the constraint (None for None)."""
    return _serialize("constraint", constraint)


def deserialize(config, custom_objects=None):
    """The constraint of serialize()'s dict (or of a name); custom_objects maps other class names."""
    return _deserialize("constraint", _BY_NAME, {}, config, custom_objects)


def get(identifier):
    """A constraint from None (None), a name ("max_norm", "min_max_norm", "non_neg",
    "unit_norm", or a class name), a serialized dict, a class (instantiated with its
    defaults) or any callable (itself)."""
    return _get("constraint", _BY_NAME, {}, identifier)
