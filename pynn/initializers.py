"""Weight initializers (Keras 3 names, defaults and formulas).

An initializer is called as ``init(shape, dtype="float32")`` and returns a new
pynn Tensor.

Note [Initializer seeds]
As in Keras 3, a random initializer gives the same values on every call: with
`seed=n` from a generator made from n; unseeded, from a seed it draws from
pynn's generator (Note [One random generator] in random.py) on its first
call, so ``pynn.random.seed(n)`` before building a model still fixes every
weight, while one unseeded instance shared by two layers gives both the same
values (Keras draws that seed when the initializer is made). get_config keeps
the seed the user gave (None stays None).

Fans, Keras' rule: a 2-D shape (fan_in, fan_out); a 1-D shape has both equal
to its length; for more dims the product of the leading (receptive field)
dims times shape[-2] and shape[-1].
"""

import math

import numpy as np

from . import random as _random
from .tensor import from_numpy, full

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "Identity", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
    "LecunUniform", "Orthogonal", "compute_fans", "get", "serialize",
]


def _shape(shape, op):
    """The weight shape as a tuple of at most 16 ints >= 0 (bounded; pynn.random's check)."""
    return _random._shape(shape, op)


def _dtype(dtype, op):
    """A pynn DType; None is the default float32, as in Keras."""
    from .dtypes import as_dtype

    return as_dtype("float32" if dtype is None else dtype, op)


class Initializer:
    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Constant(Initializer):
    """Every element equals `value`; an array value is broadcast to the shape asked for."""

    def __init__(self, value=0.0):
        if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.number, np.ndarray, list, tuple)) \
                and not hasattr(value, "__array__"):
            raise TypeError(f"Constant: value must be a number or an array, got {type(value).__name__}")
        if isinstance(value, (int, float, np.number)):
            self.value = float(value)
        else:
            arr = np.asarray(value, dtype=np.float64)
            self.value = float(arr) if arr.ndim == 0 else arr

    def __call__(self, shape, dtype="float32"):
        op = type(self).__name__
        shape = _shape(shape, op)
        dt = _dtype(dtype, op)
        if isinstance(self.value, float):
            return full(shape, self.value, dt)
        try:
            arr = np.broadcast_to(self.value, shape)
        except ValueError:
            raise ValueError(f"Constant: a value of shape {self.value.shape} cannot fill the shape {shape}") from None
        return from_numpy(np.array(arr, dtype=dt.dtype))

    def get_config(self):
        return {"value": self.value if isinstance(self.value, float) else self.value.tolist()}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class _Random(Initializer):
    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._drawn_seed = None

    def _seed(self):
        """The seed of this call: the given one, else one drawn once (Note [Initializer seeds])."""
        if self.seed is not None:
            return self.seed
        if self._drawn_seed is None:
            self._drawn_seed = int(_random.get_generator().integers(1, 10**9))
        return self._drawn_seed

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Random):
    """N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype="float32"):
        return _random.normal(shape, self.mean, self.stddev, dtype, self._seed())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2), samples beyond 2 stddev drawn again."""

    def __call__(self, shape, dtype="float32"):
        return _random.truncated_normal(shape, self.mean, self.stddev, dtype, self._seed())


class RandomUniform(_Random):
    """U[minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        if maxval < minval:
            raise ValueError(f"RandomUniform: maxval ({maxval}) < minval ({minval})")
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype="float32"):
        return _random.uniform(shape, self.minval, self.maxval, dtype, self._seed())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape (the rule in the module docstring), or the
    products of the sizes along `input_axes` and `output_axes` when both are given."""
    shape = _shape(shape, "compute_fans")
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(_Random):
    """Samples scaled to the layer's fans: with n = fan_in, fan_out or their mean (`mode`),
    "truncated_normal": stddev sqrt(scale / n) / 0.8796256610342398 (the stddev of a standard
    normal truncated at +-2), "untruncated_normal": stddev sqrt(scale / n), "uniform":
    U[-sqrt(3 scale / n), sqrt(3 scale / n)]."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if isinstance(distribution, str):
            distribution = distribution.lower()
            distribution = "truncated_normal" if distribution == "normal" else distribution
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self._MODES}, got {mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: distribution must be one of {self._DISTRIBUTIONS}, "
                             f"got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.input_axes = None if input_axes is None else [int(a) for a in input_axes]
        self.output_axes = None if output_axes is None else [int(a) for a in output_axes]

    def __call__(self, shape, dtype="float32"):
        shape = _shape(shape, type(self).__name__)
        try:
            fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        except IndexError as e:
            raise IndexError(f"{type(self).__name__}: input_axes/output_axes do not fit the shape {shape}: {e}") from e
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            return _random.truncated_normal(shape, 0.0, math.sqrt(variance) / 0.8796256610342398, dtype, self._seed())
        if self.distribution == "untruncated_normal":
            return _random.normal(shape, 0.0, math.sqrt(variance), dtype, self._seed())
        limit = math.sqrt(3.0 * variance)
        return _random.uniform(shape, -limit, limit, dtype, self._seed())

    def get_config(self):
        config = {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}
        if self.input_axes is not None or self.output_axes is not None:
            config.update(input_axes=self.input_axes, output_axes=self.output_axes)
        return config


def _preset(name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    doc = f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")

class Orthogonal(_Random):
    """A (semi-)orthogonal matrix times `gain` (Saxe et al., 2014): shape flattened to
    (prod(shape[:-1]), shape[-1]); the Q of the QR factorisation of a standard normal
    matrix, columns signed so diag(R) > 0, transposed when there are fewer rows than
    columns. Its rows or its columns, whichever are fewer, are orthonormal."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype="float32"):
        shape = _shape(shape, "Orthogonal")
        dt = _dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have at least 2 dimensions, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _random.get_generator(self._seed()).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        if rows < cols:
            q = q.T
        return from_numpy(np.ascontiguousarray((self.gain * q).reshape(shape), dtype=dt.dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """`gain` times the identity matrix (a 2-D shape; ones on the main diagonal of a
    rectangular one)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype="float32"):
        shape = _shape(shape, "Identity")
        dt = _dtype(dtype, "Identity")
        if len(shape) != 2:
            raise ValueError(f"Identity: the shape must be 2-D, got {shape}")
        return from_numpy(np.eye(*shape, dtype=np.float64).__mul__(self.gain).astype(dt.dtype))

    def get_config(self):
        return {"gain": self.gain}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal, "identity": Identity,
}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}
# Keras' aliases
_BY_NAME.update(normal=RandomNormal, uniform=RandomUniform, one=Ones, zero=Zeros)
_BY_CLASS.update(OrthogonalInitializer=Orthogonal, IdentityInitializer=Identity)


def get(identifier):
    """An initializer from a name ("glorot_uniform"), a class name, a serialized dict, an
    Initializer (or its class), a callable(shape, dtype), or an array (the values, for a
    weight of its shape); None gives None, as in Keras."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or (callable(identifier) and not isinstance(identifier, (str, type))):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, np.ndarray) or hasattr(identifier, "__array__") and not isinstance(identifier, str):
        value = np.array(identifier)

        def initialize(shape, dtype="float32"):
            shape = _shape(shape, "initializer")
            if shape != value.shape:
                raise ValueError(f"initializer: Expected `shape` to be {value.shape} (the array's), got {shape}")
            return from_numpy(np.array(value, dtype=_dtype(dtype, "initializer").dtype))
        return initialize
    if isinstance(identifier, dict):
        cls = _BY_CLASS.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"initializers.get: unknown initializer {identifier.get('class_name')!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower()) or _BY_CLASS.get(identifier)
        if cls is not None:
            return cls()
    raise ValueError(f"initializers.get: unknown initializer {identifier!r}; expected one of {sorted(_BY_NAME)}")


def serialize(initializer):
    """A JSON-able dict that get() turns back into the initializer (None for None)."""
    if initializer is None:
        return None
    if not isinstance(initializer, Initializer):
        raise ValueError(f"initializers.serialize: cannot serialize the initializer {initializer!r}: it is not a pynn Initializer")
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
