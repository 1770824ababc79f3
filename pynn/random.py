"""Random numbers for weights, shuffling and dropout, from one seedable generator.

Note [One random generator]
Everything random in pynn (initializers, the order `fit` shuffles samples in,
dropout masks) draws from the generator here, in program order. So
`pynn.random.seed(n)` before building and training a model makes the whole run
reproducible: the same seed gives the same weights, the same batches and the
same masks. An initializer or call given its own `seed=` draws from a private
generator made from that seed and leaves the global one alone. Bits come from
NumPy's PCG64; pynn only draws the numbers, it does no math with them here. A
dropout mask is made in C++ from one 63-bit key drawn here per call (Note
[Dropout masks] in csrc/kernels/nn.cpp); a captured step draws that key again
before each replay, so a replayed epoch consumes the generator as the eager one.
"""

import numpy as np

from .tensor import Tensor, from_numpy
from .utils import named_error

__all__ = ["seed", "get_generator", "normal", "uniform", "truncated_normal", "permutation",
           "rand", "randn", "random", "random_sample", "randint", "integers", "choice", "shuffle",
           "default_rng", "Generator"]

_generator = np.random.default_rng()


def seed(n=None):
    """Reseeds pynn's generator (also `pynn.utils.set_random_seed`); None seeds it from the OS."""
    global _generator
    if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0):
        raise ValueError(f"pynn.random.seed: expected a non-negative integer, got {n!r}")
    _generator = np.random.default_rng(None if n is None else int(n))


def _refuse_in_capture():
    """Numbers drawn in Python inside a captured step would be the same at every replay
    (Note [Captured steps] in csrc/plan/plan.h): the capture is refused."""
    from . import _capture

    _capture.refuse("pynn.random draws numbers in Python, which a captured step would repeat; draw them "
                    "outside the step, or use a layer that draws in C++ (Dropout)")


def get_generator(seed=None):
    """The global NumPy Generator, or a private one when `seed` is an integer."""
    _refuse_in_capture()
    if seed is None:
        return _generator
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(int(seed))


_MAX_DIMS = 16
_RERAISE = (ValueError, TypeError, IndexError, OverflowError, MemoryError)


def _dim(d, op):
    if isinstance(d, (bool, np.bool_)) or d is None:
        raise TypeError(f"{op}: shape dimensions must be integers, got {d!r}")
    try:
        return int(d)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{op}: shape dimensions must be integers, got {d!r}") from None


def _bounded_tuple(values, op, what="shape", expected="a sequence of ints", limit=_MAX_DIMS):
    """tuple(values) for a sequence of at most `limit` items, never walking past item limit + 1
    (a sequence whose __len__ or __iter__ lies cannot hang or exhaust memory)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{op}: {what} must be {expected}, got {values!r}")
    try:
        it = iter(values)
    except TypeError:
        raise TypeError(f"{op}: {what} must be {expected}, got {type(values).__name__}") from None
    out = []
    for v in it:
        if len(out) == limit:
            raise ValueError(f"{op}: pynn supports at most {limit} dimensions, got a longer {what}")
        out.append(v)
    return tuple(out)


def _shape(shape, op="pynn.random"):
    """`shape` (an int or a sequence of at most 16 ints >= 0) as a tuple of ints (bounded)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        dims = (int(shape),)
    else:
        dims = tuple(_dim(d, op) for d in _bounded_tuple(shape, op, "shape", "an int or a sequence of ints"))
    if any(d < 0 for d in dims):
        raise ValueError(f"{op}: negative dimensions are not allowed: {dims}")
    return dims


def _as_tensor(values, dtype, op="pynn.random"):
    from .dtypes import as_dtype

    dt = as_dtype("float32" if dtype is None else dtype, op)  # Keras: dtype None is the default float
    if not dt.is_floating_point:
        raise TypeError(f"{op}: dtype must be floating point, got {dt.name}")
    # np.asarray, not np.ascontiguousarray: the latter makes a 0-d sample (shape ()) 1-d
    return from_numpy(np.asarray(values, dtype=dt.dtype, order="C"))


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    """A tensor of samples from N(mean, stddev^2)."""
    op = "random.normal"
    dims = _shape(shape, op)
    try:
        values = get_generator(seed).normal(mean, stddev, dims)
    except _RERAISE as e:
        raise named_error(op, e) from e
    return _as_tensor(values, dtype, op)


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None):
    """A tensor of samples from U[minval, maxval)."""
    op = "random.uniform"
    dims = _shape(shape, op)
    try:
        values = get_generator(seed).uniform(minval, maxval, dims)
    except _RERAISE as e:  # NumPy's "high - low < 0" and friends
        raise named_error(op, e) from e
    return _as_tensor(values, dtype, op)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    """N(mean, stddev^2) with every sample farther than 2 stddev from the mean drawn again (Keras' rule)."""
    gen = get_generator(seed)
    z = gen.standard_normal(_shape(shape, "random.truncated_normal"))
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return _as_tensor(mean + stddev * z, dtype, "random.truncated_normal")


def _draw_key(generator=None):
    """A 63-bit key for a C++ random kernel (dropout), from `generator` or the global one."""
    return int((generator or _generator).bit_generator.random_raw()) >> 1  # 64 raw bits, fast: one per step


def _index_order(n, seed=None):
    """A random permutation of range(n) as a NumPy int64 array (fit's shuffling)."""
    return (_generator if seed is None else get_generator(seed)).permutation(int(n))


# Note [NumPy-style random]
# Code written for np.random runs on pynn.random: the functions below take NumPy's
# arguments and give NumPy's dtypes (float64 for rand/randn/random, int64 for
# integers), as tensors (or Python scalars where NumPy gives scalars), drawn from
# the one generator above. Only `normal` and `uniform` keep the Keras signature
# `(shape, ...)` and float32 (DESIGN.md's contract); `default_rng(seed)` gives a
# Generator whose normal/uniform take NumPy's (loc, scale, size).


def _out(values):
    """NumPy's result as pynn returns it: a tensor for arrays, the Python scalar for scalars."""
    _refuse_in_capture()
    if isinstance(values, np.ndarray):
        return from_numpy(np.ascontiguousarray(values))
    return values.item() if isinstance(values, np.generic) else values


def _sizes(shape, op):
    """rand(2, 3) / randn(2, 3): each argument a dimension."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        raise TypeError(f"pynn.random.{op}: give the dimensions as separate integers, e.g. {op}(2, 3)")
    return tuple(_index(d, op, "dimension") for d in shape) or None


def _index(v, op, what):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"pynn.random.{op}: {what} must be an integer, got {type(v).__name__}")
    if v < 0:
        raise ValueError(f"pynn.random.{op}: negative {what} {v}")
    return int(v)


def _size(size, op):
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return (_index(size, op, "size"),)
    return tuple(_index(d, op, "size") for d in size)


def _array(a, op):
    """An array-like or tensor as a NumPy array (no copy for a tensor)."""
    if isinstance(a, Tensor):
        return np.asarray(a)
    arr = np.asarray(a)
    if arr.dtype == object:
        raise TypeError(f"pynn.random.{op}: expected numbers, got {type(a).__name__}")
    return arr


class Generator:
    """NumPy's Generator API over a NumPy PCG64 stream, returning pynn tensors
    (Note [NumPy-style random]); `pynn.random.default_rng(seed)` makes one."""

    def __init__(self, bit_source=None):
        self._g = bit_source if isinstance(bit_source, np.random.Generator) else np.random.default_rng(bit_source)

    def random(self, size=None, dtype="float64"):
        """Floats in [0, 1)."""
        return _out(self._g.random(_size(size, "random"), dtype=np.dtype(str(dtype))))

    def standard_normal(self, size=None, dtype="float64"):
        return _out(self._g.standard_normal(_size(size, "standard_normal"), dtype=np.dtype(str(dtype))))

    def normal(self, loc=0.0, scale=1.0, size=None):
        return _out(self._g.normal(_array(loc, "normal"), _array(scale, "normal"), _size(size, "normal")))

    def uniform(self, low=0.0, high=1.0, size=None):
        return _out(self._g.uniform(_array(low, "uniform"), _array(high, "uniform"), _size(size, "uniform")))

    def integers(self, low, high=None, size=None, dtype="int64", endpoint=False):
        """Integers in [low, high) ([low, high] with endpoint); [0, low) without high."""
        return _out(self._g.integers(low, high, _size(size, "integers"), dtype=np.dtype(str(dtype)),
                                     endpoint=endpoint))

    def choice(self, a, size=None, replace=True, p=None, axis=0, shuffle=True):
        """Samples from a (an int n stands for arange(n)), with or without replacement, weighted by p."""
        a = a if isinstance(a, (int, np.integer)) else _array(a, "choice")
        p = None if p is None else _array(p, "choice")
        return _out(self._g.choice(a, _size(size, "choice"), replace=replace, p=p, axis=axis, shuffle=shuffle))

    def permutation(self, x, axis=0):
        """A shuffled arange(x) for an int, else a shuffled copy of x along axis."""
        x = x if isinstance(x, (int, np.integer)) else _array(x, "permutation")
        return _out(self._g.permutation(x, axis=axis))

    def shuffle(self, x, axis=0):
        """Shuffles x in place along axis (a tensor or a NumPy array)."""
        if isinstance(x, Tensor):
            x[...] = from_numpy(self._g.permutation(np.asarray(x), axis=axis))
        else:
            self._g.shuffle(x, axis=axis)


def default_rng(seed=None):
    """A new Generator seeded with `seed` (independent of pynn's global generator)."""
    return Generator(seed)


def _global():
    return Generator(_generator)


def rand(*shape):
    """float64 samples from U[0, 1) of the given dimensions (np.random.rand)."""
    return _out(_generator.random(_sizes(shape, "rand")))


def randn(*shape):
    """float64 samples from N(0, 1) of the given dimensions (np.random.randn)."""
    return _out(_generator.standard_normal(_sizes(shape, "randn")))


def random(size=None):
    """float64 samples from U[0, 1) (np.random.random / random_sample)."""
    return _global().random(size)


random_sample = random


def integers(low, high=None, size=None, dtype="int64", endpoint=False):
    """Integers in [low, high) (NumPy Generator.integers)."""
    return _global().integers(low, high, size, dtype, endpoint)


def randint(low, high=None, size=None, dtype="int64"):
    """Integers in [low, high), or [0, low) without high (np.random.randint)."""
    return _global().integers(low, high, size, dtype)


def choice(a, size=None, replace=True, p=None):
    """np.random.choice: samples of a (or of arange(a) for an int)."""
    return _global().choice(a, size, replace, p)


def permutation(x, seed=None):
    """np.random.permutation: a shuffled arange(x) for an int, else a shuffled copy of x, as a tensor."""
    return Generator(get_generator(seed)).permutation(x)


def shuffle(x):
    """np.random.shuffle: shuffles x in place along its first axis."""
    _global().shuffle(x)
