"""pynn's six dtypes.

A pynn dtype compares equal to the NumPy dtype, the NumPy scalar type and the
name: ``t.dtype == np.float32 == np.dtype("float32") == "float32"``. Its
``dtype`` attribute is the NumPy dtype, so NumPy accepts it too
(``np.zeros(3, dtype=pynn.float32)``).
"""

import numpy as np

__all__ = ["DType", "bool_", "uint8", "int32", "int64", "float32", "float64", "as_dtype"]


class DType:
    """One of pynn's element types. Use the module constants, never construct."""

    __slots__ = ("name", "code", "itemsize", "dtype")

    def __init__(self, name, code):
        self.name = name
        self.code = code  # the C++ DType enumerator
        self.dtype = np.dtype(name)
        self.itemsize = self.dtype.itemsize

    def __eq__(self, other):
        if isinstance(other, DType):
            return self is other
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"pynn.{self.name}"

    def __str__(self):
        return self.name

    @property
    def is_floating_point(self):
        return self.dtype.kind == "f"

    def __reduce__(self):
        return (as_dtype, (self.name,))


# The order is the C++ enum's (csrc/core/dtype.h).
bool_ = DType("bool", 0)
uint8 = DType("uint8", 1)
int32 = DType("int32", 2)
int64 = DType("int64", 3)
float32 = DType("float32", 4)
float64 = DType("float64", 5)

BY_CODE = (bool_, uint8, int32, int64, float32, float64)
_BY_NAME = {d.name: d for d in BY_CODE}


def as_dtype(d, op="dtype"):
    """A pynn DType from a DType, NumPy dtype or scalar type, or name; None stays None.

    `op` names the caller in the TypeError for a dtype pynn lacks.
    """
    if d is None or isinstance(d, DType):
        return d
    try:
        name = np.dtype(d).name
    except (TypeError, ValueError):
        raise TypeError(f"{op}: data type {d!r} not understood") from None
    if name not in _BY_NAME:
        raise TypeError(
            f"{op}: unsupported dtype {name}: pynn supports bool, uint8, int32, int64, float32 and float64"
        )
    return _BY_NAME[name]
