"""Keras-style layers (Note [Layer contract] in base.py)."""

from .base import KerasTensor, Layer, register
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, ReLU, Reshape, Softmax
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                      maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization
from .pooling import *  # noqa: F401,F403 (MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, ...)
from .pooling import __all__ as _pooling_all

__all__ = [
    "Layer", "KerasTensor", "register", "Input", "InputLayer", "Dense", "Activation", "ReLU", "Softmax",
    "Flatten", "Reshape", "Dropout", "BatchNormalization", "get",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
] + _pooling_all


def get(class_name):
    """The layer class registered under `class_name` (built-in layers and those decorated with register)."""
    from .base import _REGISTRY

    if class_name not in _REGISTRY:
        raise ValueError(f"layers.get: unknown layer class {class_name!r}; known: {sorted(_REGISTRY)} (pass custom classes "
                         f"in custom_objects or decorate them with pynn.layers.register)")
    return _REGISTRY[class_name]
