"""Utilities: numerical gradient checking."""

import numpy as np

from . import _core
from .autograd import GradientTape

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compares the tape's gradient of fn(*inputs) with central differences.

    inputs: tensors or arrays (converted to float64 copies). The target is
    sum(fn(*inputs)), so fn may return any shape. Every element of every
    input is perturbed by +-eps in float64. Returns True, or raises
    GradcheckError naming the input, the worst element and both values.
    """
    xs = [_core._copy_from(np.asarray(x, dtype=np.float64)) for x in inputs]

    def total(*args):
        y = fn(*args)
        return float(np.sum(np.asarray(y, dtype=np.float64)))

    with GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = fn(*xs)
    analytic = tape.gradient(y, xs)
    for i, x in enumerate(xs):
        a = np.zeros(x.shape) if analytic[i] is None else np.asarray(analytic[i], dtype=np.float64)
        base = np.array(x, dtype=np.float64)
        numeric = np.zeros_like(base)
        flat = numeric.reshape(-1)
        for j in range(base.size):
            idx = np.unravel_index(j, base.shape)
            old = base[idx]
            x[idx] = old + eps
            up = total(*xs)
            x[idx] = old - eps
            down = total(*xs)
            x[idx] = old
            flat[j] = (up - down) / (2 * eps)
        err = np.abs(a - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            k = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), base.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {base.shape}) element {tuple(int(v) for v in k)}: "
                f"analytic {a[k]:.10g} vs numerical {numeric[k]:.10g} (|diff| {err[k]:.3g}, "
                f"atol {atol}, rtol {rtol}); {int(bad.sum())} of {base.size} elements differ"
            )
    return True
