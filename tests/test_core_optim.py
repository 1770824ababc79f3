"""Fused optimizer updates against NumPy versions of Keras 3's formulas, several steps."""

import numpy as np
import pytest

import pynn
from oracle import isa, threads  # noqa: F401

R = pynn._core._OptimRule


def keras_sgd(w, g, slots, lr=0.01, momentum=0.9, nesterov=False):
    if momentum == 0:
        return w - lr * g, slots
    m = momentum * slots[0] - lr * g
    w = w + (momentum * m - lr * g if nesterov else m)
    return w, [m]


def keras_rmsprop(w, g, slots, lr=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7):
    v = rho * slots[0] + (1 - rho) * g * g
    step = lr * g / np.sqrt(v + epsilon)
    if momentum > 0:
        m = momentum * slots[1] + step
        return w - m, [v, m]
    return w - step, [v, slots[1]]


def keras_adam(w, g, slots, t, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7, weight_decay=0.0):
    w = w - w * weight_decay * lr  # AdamW: Keras applies the decay before the update
    m = slots[0] + (g - slots[0]) * (1 - beta1)
    v = slots[1] + (g * g - slots[1]) * (1 - beta2)
    alpha = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), [m, v]


def keras_adagrad(w, g, slots, lr=1e-3, epsilon=1e-7):
    a = slots[0] + g * g
    return w - lr * g / np.sqrt(a + epsilon), [a]


CASES = {
    "sgd": (R.sgd, 1, lambda w, g, s, t: keras_sgd(w, g, s, 0.01, 0.0), [0.01, 0.0, 0.0]),
    "sgd momentum": (R.sgd, 1, lambda w, g, s, t: keras_sgd(w, g, s, 0.01, 0.9), [0.01, 0.9, 0.0]),
    "sgd nesterov": (R.sgd, 1, lambda w, g, s, t: keras_sgd(w, g, s, 0.01, 0.9, True), [0.01, 0.9, 1.0]),
    "rmsprop": (R.rmsprop, 2, lambda w, g, s, t: keras_rmsprop(w, g, s), [1e-3, 0.9, 0.0, 1e-7]),
    "rmsprop momentum": (R.rmsprop, 2, lambda w, g, s, t: keras_rmsprop(w, g, s, momentum=0.5),
                         [1e-3, 0.9, 0.5, 1e-7]),
    "adam": (R.adam, 2, lambda w, g, s, t: keras_adam(w, g, s, t), None),
    "adamw": (R.adam, 2, lambda w, g, s, t: keras_adam(w, g, s, t, weight_decay=0.004), None),
    "adagrad": (R.adagrad, 1, lambda w, g, s, t: keras_adagrad(w, g, s), [1e-3, 1e-7]),
}


def adam_scalars(name, t, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7):
    alpha = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    decay = lr * 0.004 if name == "adamw" else 0.0
    return [alpha, beta1, beta2, epsilon, decay]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_updates_match_keras_formulas(name, dtype, threads, isa):
    rule, nslots, reference, scalars = CASES[name]
    rng = np.random.default_rng(0)
    n = 100_003  # past the thread grain, with a vector tail
    w = rng.standard_normal(n).astype(dtype)
    slots = [np.abs(rng.standard_normal(n)).astype(dtype) * 0.1 for _ in range(2)]
    if name == "adagrad":
        slots[0] += 0.1  # Keras' initial accumulator value
    var = pynn.tensor(w)
    bufs = [pynn.tensor(s) for s in slots[:nslots]]
    w64, s64 = w.astype(np.float64), [s.astype(np.float64) for s in slots]
    for t in range(1, 6):
        g = rng.standard_normal(n).astype(dtype)
        h = adam_scalars(name, t) if rule == R.adam else scalars
        pynn._core._optim_update(rule, [var, pynn.from_numpy(g)] + bufs, h)
        w64, s64 = reference(w64, g.astype(np.float64), s64, t)
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(np.asarray(var), w64, rtol=tol, atol=tol)
    for k in range(nslots):
        np.testing.assert_allclose(np.asarray(bufs[k]), s64[k], rtol=tol, atol=tol)


def test_update_argument_errors():
    v = pynn.zeros(4)
    with pytest.raises(TypeError, match="float32 or float64"):
        pynn._core._optim_update(R.sgd, [pynn.zeros(4, dtype="int32"), pynn.zeros(4, dtype="int32")], [0.1, 0, 0])
    with pytest.raises(TypeError, match="float32"):
        pynn._core._optim_update(R.sgd, [v, pynn.zeros(4, dtype="float64")], [0.1, 0, 0])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        pynn._core._optim_update(R.sgd, [v, pynn.zeros(3)], [0.1, 0, 0])
    with pytest.raises(ValueError, match="contiguous"):
        pynn._core._optim_update(R.sgd, [v, pynn.zeros(8)[::2]], [0.1, 0, 0])
    with pytest.raises(ValueError, match="scalars"):
        pynn._core._optim_update(R.adam, [v, v, v, v], [0.1])
