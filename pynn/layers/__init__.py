"""Keras-style layers (Note [Layer contract] in base.py)."""

from .base import KerasTensor, Layer, register
from .convolutional import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Convolution1D, Convolution1DTranspose,
                            Convolution2D, Convolution2DTranspose, DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                            SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, ReLU, Reshape, Softmax
from .core_extra import Identity, Lambda
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                      dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization
from .regularization import SpatialDropout1D, SpatialDropout2D
from .reshaping import (Cropping1D, Cropping2D, Permute, RepeatVector, UpSampling1D, UpSampling2D, ZeroPadding1D,
                        ZeroPadding2D)
from .pooling import *  # noqa: F401,F403 (MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, ...)
from .pooling import __all__ as _pooling_all

__all__ = [
    "Layer", "KerasTensor", "register", "Input", "InputLayer", "Dense", "Activation", "ReLU", "Softmax",
    "Flatten", "Reshape", "Dropout", "BatchNormalization", "get",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
    "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
    "SeparableConv2D", "Convolution1D", "Convolution2D", "Convolution1DTranspose", "Convolution2DTranspose",
    "SeparableConvolution1D", "SeparableConvolution2D",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D", "Permute",
    "RepeatVector", "SpatialDropout1D", "SpatialDropout2D", "Dot", "dot", "Lambda", "Identity",
] + _pooling_all


def get(class_name):
    """The layer class registered under `class_name` (built-in layers and those decorated with register)."""
    from .base import _REGISTRY

    if class_name not in _REGISTRY:
        raise ValueError(f"layers.get: unknown layer class {class_name!r}; known: {sorted(_REGISTRY)} (pass custom classes "
                         f"in custom_objects or decorate them with pynn.layers.register)")
    return _REGISTRY[class_name]
