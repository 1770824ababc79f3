"""Random numbers for weights, shuffling and dropout, from one seedable generator.

Note [One random generator]
Everything random in pynn (initializers, the order `fit` shuffles samples in,
dropout masks) draws from the generator here, in program order. So
`pynn.random.seed(n)` before building and training a model makes the whole run
reproducible: the same seed gives the same weights, the same batches and the
same masks. An initializer or call given its own `seed=` draws from a private
generator made from that seed and leaves the global one alone. Bits come from
NumPy's PCG64; pynn only draws the numbers, it does no math with them here.
"""

import numpy as np

from .tensor import from_numpy

__all__ = ["seed", "get_generator", "normal", "uniform", "truncated_normal", "permutation"]

_generator = np.random.default_rng()


def seed(n):
    """Reseeds pynn's generator (also `pynn.utils.set_random_seed`)."""
    global _generator
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"pynn.random.seed: expected a non-negative integer, got {n!r}")
    _generator = np.random.default_rng(int(n))


def get_generator(seed=None):
    """The global NumPy Generator, or a private one when `seed` is an integer."""
    if seed is None:
        return _generator
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(int(seed))


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def _as_tensor(values, dtype):
    from .dtypes import as_dtype

    dt = as_dtype(dtype)
    if not dt.is_floating_point:
        raise TypeError(f"pynn.random: dtype must be floating point, got {dt.name}")
    return from_numpy(np.ascontiguousarray(values, dtype=dt.dtype))


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    """A tensor of samples from N(mean, stddev^2)."""
    return _as_tensor(get_generator(seed).normal(mean, stddev, _shape(shape)), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None):
    """A tensor of samples from U[minval, maxval)."""
    return _as_tensor(get_generator(seed).uniform(minval, maxval, _shape(shape)), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    """N(mean, stddev^2) with every sample farther than 2 stddev from the mean drawn again (Keras' rule)."""
    gen = get_generator(seed)
    z = gen.standard_normal(_shape(shape))
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return _as_tensor(mean + stddev * z, dtype)


def permutation(n, seed=None):
    """A random permutation of range(n) as a NumPy int64 array (fit's shuffling)."""
    return get_generator(seed).permutation(int(n))
