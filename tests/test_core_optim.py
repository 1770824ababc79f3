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


OPTIMIZERS = {
    "sgd": (lambda: pynn.optimizers.SGD(0.01), lambda w, g, s, t: keras_sgd(w, g, s, 0.01, 0.0), 1),
    "sgd nesterov": (lambda: pynn.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                     lambda w, g, s, t: keras_sgd(w, g, s, 0.01, 0.9, True), 1),
    "rmsprop": (lambda: pynn.optimizers.RMSprop(), lambda w, g, s, t: keras_rmsprop(w, g, s), 2),
    "adam": (lambda: pynn.optimizers.Adam(), lambda w, g, s, t: keras_adam(w, g, s, t), 2),
    "adamw": (lambda: pynn.optimizers.AdamW(), lambda w, g, s, t: keras_adam(w, g, s, t, weight_decay=0.004), 2),
    "adagrad": (lambda: pynn.optimizers.Adagrad(), lambda w, g, s, t: keras_adagrad(w, g, s), 1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_classes_follow_keras(name):
    make, reference, _ = OPTIMIZERS[name]
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((7, 3))
    b0 = rng.standard_normal(3)
    w, b = pynn.Variable(w0), pynn.Variable(b0)
    opt = make()
    init = 0.1 if name == "adagrad" else 0.0
    ref = {"w": (w0, [np.full_like(w0, init), np.zeros_like(w0)]), "b": (b0, [np.full_like(b0, init), np.zeros_like(b0)])}
    for t in range(1, 6):
        gw, gb = rng.standard_normal((7, 3)), rng.standard_normal(3)
        opt.apply_gradients([(pynn.tensor(gw), w), (pynn.tensor(gb), b)])
        ref = {k: reference(ref[k][0], g, ref[k][1], t) for k, g in (("w", gw), ("b", gb))}
    assert opt.iterations == 5
    np.testing.assert_allclose(np.asarray(w), ref["w"][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(b), ref["b"][0], rtol=1e-12, atol=1e-12)


def test_optimizer_clipping_none_grads_and_get():
    w = pynn.Variable(np.zeros(4))
    opt = pynn.optimizers.SGD(1.0, clipvalue=0.5)
    opt.apply([pynn.tensor(np.array([2.0, -2.0, 0.1, 0.0]))], [w])
    np.testing.assert_allclose(np.asarray(w), [-0.5, 0.5, -0.1, 0.0])
    w.assign(np.zeros(4))
    pynn.optimizers.SGD(1.0, clipnorm=1.0).apply([pynn.tensor(np.array([3.0, 4.0, 0, 0]))], [w])
    np.testing.assert_allclose(np.asarray(w), [-0.6, -0.8, 0, 0])
    u, v = pynn.Variable(np.zeros(1)), pynn.Variable(np.zeros(1))
    pynn.optimizers.SGD(1.0, global_clipnorm=1.0).apply([pynn.tensor([3.0]), pynn.tensor([4.0])], [u, v])
    np.testing.assert_allclose([float(u), float(v)], [-0.6, -0.8])
    assert pynn.optimizers.SGD().apply([None], [w]) == 0  # no gradient: no step
    assert isinstance(pynn.optimizers.get("RMSprop"), pynn.optimizers.RMSprop)
    adam = pynn.optimizers.Adam(learning_rate=0.01, beta_1=0.8)
    again = pynn.optimizers.get({"class_name": "adam", "config": adam.get_config()})
    assert again.get_config() == adam.get_config()
    with pytest.raises(ValueError, match="unknown optimizer"):
        pynn.optimizers.get("lbfgs")
    with pytest.raises(ValueError, match="only one of"):
        pynn.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(TypeError, match="pynn.Variable"):
        pynn.optimizers.SGD().apply([pynn.ones(2)], [pynn.ones(2)])
    with pytest.raises(ValueError, match="shape"):
        pynn.optimizers.SGD().apply([pynn.ones(3)], [pynn.Variable(np.ones(2))])


def test_optimizer_trains_with_the_tape():
    rng = np.random.default_rng(2)
    x = pynn.tensor(rng.standard_normal((256, 5)).astype(np.float32))
    true_w = rng.standard_normal((5, 1)).astype(np.float32)
    y = x @ pynn.tensor(true_w)
    w = pynn.Variable(np.zeros((5, 1), np.float32))
    opt = pynn.optimizers.Adam(0.05)
    for _ in range(300):
        with pynn.GradientTape() as tape:
            loss = pynn.mean(pynn.square(x @ w - y))
        opt.apply(tape.gradient(loss, [w]), [w])
    np.testing.assert_allclose(np.asarray(w), true_w, atol=1e-2)
