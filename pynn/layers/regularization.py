"""Spatial dropout (Keras 3): SpatialDropout1D and SpatialDropout2D drop whole feature maps.

They are Dropout with one mask value per (sample, channel), shared along the spatial axes
(Dropout's noise_shape; the mask comes from the keyed C++ kernel, Note [Dropout masks] in
csrc/kernels/nn.cpp), so a captured step redraws it per replay as Dropout does.
"""

from .. import _spatial
from .base import Layer, register, shape_str
from .core import Dropout, _single

__all__ = ["SpatialDropout1D", "SpatialDropout2D"]


class _SpatialDropout(Dropout):
    """Dropout whose noise shape keeps only the batch and channel axes of a fixed-rank input."""

    _rank = 0

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.built = True  # no weights: built at once, as in Keras

    def _layout(self):
        raise NotImplementedError

    def _check(self, shape):
        if len(shape) != self._rank:
            raise ValueError(f"{self.name} ({type(self).__name__}): expects inputs of rank {self._rank} "
                             f"{self._layout()}, got shape {shape_str(tuple(shape))}")

    def compute_output_shape(self, input_shape):
        input_shape = _single(self, input_shape)
        self._check(input_shape)
        return input_shape

    def call(self, inputs, training=None):
        self._check(inputs.shape)
        return super().call(inputs, training=training)

    def get_config(self):
        return dict(Layer.get_config(self), rate=self.rate, seed=self.seed)


@register
class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels) inputs: in training each (sample,
    channel) is zeroed with probability `rate` at every step, the rest scaled by 1 / (1 -
    rate); at inference the identity."""

    _rank = 3

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.noise_shape = (None, 1, None)

    def _layout(self):
        return "(batch, steps, channels)"


@register
class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images: in training each (sample, channel) is zeroed with
    probability `rate` over all rows and columns, the rest scaled by 1 / (1 - rate); at
    inference the identity. data_format: "channels_last" (default) or "channels_first"."""

    _rank = 4

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _spatial.data_format("SpatialDropout2D", data_format)
        self.noise_shape = (None, None, 1, 1) if self.data_format == "channels_first" else (None, 1, 1, None)

    def _layout(self):
        return "(batch, channels, rows, cols)" if self.data_format == "channels_first" else \
            "(batch, rows, cols, channels)"

    def get_config(self):
        return dict(super().get_config(), data_format=self.data_format)
