"""pynn: a CPU tensor and deep-learning library with a C++ core.

Tensors follow NumPy (broadcasting, type promotion, views); the math runs in
C++ kernels, multi-threaded with OpenMP, with the GIL released.
"""

import os as _os

# Note [OpenMP spinning]
# libgomp's worker threads busy-wait after a parallel region (300,000 spins by
# default, milliseconds here) before they sleep. On a 2-core machine that
# starves whatever runs next, e.g. NumPy's BLAS threads (a (128,784)@(784,128)
# NumPy product right after a pynn call took 4 ms instead of 0.14 ms). 10,000
# spins keep the pool hot between the kernels of one step and let go soon
# after. It must be set before libgomp loads (with pynn._core); a value the
# user set wins.
_os.environ.setdefault("GOMP_SPINCOUNT", "10000")

from . import _core  # noqa: E402
from ._core import (  # noqa: E402
    AxisError,
    empty_cache,
    get_cpu_isa,
    get_num_threads,
    memory_stats,
    set_cpu_isa,
    set_num_threads,
    supported_cpu_isas,
)
from .dtypes import DType, bool_, float32, float64, int32, int64, uint8
from .autograd import GradientTape, Variable, no_grad
from .ops import (
    abs, add, argmax, argmin, broadcast_to, clip, concatenate, dense, divide, dot, equal, exp, expand_dims, greater,
    greater_equal, less, less_equal, log, log_softmax, max, maximum, mean, min, minimum, multiply,
    negative, matmul, not_equal, pad, power, relu, reshape, sigmoid, sigmoid_binary_cross_entropy, softmax,
    softmax_cross_entropy, sqrt, square, squeeze, stack,
    subtract, sum, tanh, tensordot, transpose, where,
)
from .tensor import (
    Tensor, arange, empty, empty_like, eye, from_numpy, full, full_like, ones, ones_like, tensor,
    zeros, zeros_like,
)
from . import activations, datasets, initializers, losses, metrics, optimizers, random, utils  # noqa: E402,F401
from . import constraints, regularizers  # noqa: E402,F401
from . import callbacks, layers, models  # noqa: E402,F401
from .layers import Input  # noqa: E402
from .models import Model, Sequential  # noqa: E402

bool = bool_  # noqa: A001  (pynn.bool, as in NumPy/PyTorch)

__version__ = "0.1.0"

__all__ = [
    # tensors
    "Tensor", "tensor", "from_numpy", "empty", "zeros", "ones", "full", "arange", "eye",
    "empty_like", "zeros_like", "ones_like", "full_like",
    # dtypes
    "DType", "bool", "bool_", "uint8", "int32", "int64", "float32", "float64",
    # element-wise
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "equal", "not_equal",
    "greater", "greater_equal", "less", "less_equal", "negative", "abs", "exp", "log", "sqrt",
    "square", "tanh", "sigmoid", "relu", "where", "clip",
    # reductions
    "sum", "mean", "max", "min", "argmax", "argmin",
    # linear algebra and nn functions
    "matmul", "dot", "tensordot", "softmax", "log_softmax", "softmax_cross_entropy",
    "sigmoid_binary_cross_entropy", "dense",
    # autograd
    "GradientTape", "Variable", "no_grad",
    # shapes
    "reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack", "pad",
    # runtime
    "set_num_threads", "get_num_threads", "get_cpu_isa", "set_cpu_isa", "supported_cpu_isas",
    "memory_stats", "empty_cache", "AxisError",
    # Keras-style
    "Sequential", "Model", "Input",
]
