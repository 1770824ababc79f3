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


def keras_amsgrad(w, g, slots, t, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7):
    m = slots[0] + (g - slots[0]) * (1 - beta1)
    v = slots[1] + (g * g - slots[1]) * (1 - beta2)
    vhat = np.maximum(slots[2], v)
    alpha = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - alpha * m / (np.sqrt(vhat) + epsilon), [m, v, vhat]


def keras_centered(w, g, slots, lr=1e-3, rho=0.9, momentum=0.5, epsilon=1e-7):
    v = rho * slots[0] + (1 - rho) * g * g
    a = rho * slots[1] + (1 - rho) * g
    m = momentum * slots[2] + lr * g / np.sqrt(v - a * a + epsilon)
    return w - m, [v, a, m]


def keras_adamax(w, g, slots, t, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7, decay=0.0):
    w = w - decay * w
    m = slots[0] + (g - slots[0]) * (1 - beta1)
    u = np.maximum(beta2 * slots[1], np.abs(g))
    return w - lr * m / ((1 - beta1 ** t) * (u + epsilon)), [m, u]


def keras_nadam(w, g, slots, t, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7):
    u = [beta1 * (1 - 0.5 * 0.96 ** k) for k in range(1, t + 2)]
    m = slots[0] + (g - slots[0]) * (1 - beta1)
    v = slots[1] + (g * g - slots[1]) * (1 - beta2)
    m_hat = u[t] * m / (1 - np.prod(u[:t + 1])) + (1 - u[t - 1]) * g / (1 - np.prod(u[:t]))
    return w - lr * m_hat / (np.sqrt(v / (1 - beta2 ** t)) + epsilon), [m, v]


def nadam_scalars(t, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7):
    u = [beta1 * (1 - 0.5 * 0.96 ** k) for k in range(1, t + 2)]
    return [lr, beta1, beta2, epsilon, u[t] / (1 - np.prod(u[:t + 1])), (1 - u[t - 1]) / (1 - np.prod(u[:t])),
            1 - beta2 ** t, 0.0]


def keras_adadelta(w, g, slots, lr=1.0, rho=0.95, epsilon=1e-7):
    a = rho * slots[0] + (1 - rho) * g * g
    d = -np.sqrt(slots[1] + epsilon) * g / np.sqrt(a + epsilon)
    return w + lr * d, [a, rho * slots[1] + (1 - rho) * d * d]


def keras_lion(w, g, slots, lr=1e-3, beta1=0.9, beta2=0.99, decay=0.0):
    w = w - decay * w
    return w - lr * np.sign(beta1 * slots[0] + (1 - beta1) * g), [beta2 * slots[0] + (1 - beta2) * g]


def keras_ftrl(w, g, slots, lr=0.05, power=-0.5, l1=0.01, l2=0.02, shrink=0.03):
    n = slots[0] + g * g
    z = slots[1] + g + 2 * shrink * w - (n ** -power - slots[0] ** -power) / lr * w
    return (np.clip(z, -l1, l1) - z) / (n ** -power / lr + 2 * l2), [n, z]


CASES.update({
    "adam amsgrad": (R.adam_amsgrad, 3, keras_amsgrad, None),
    "rmsprop centered": (R.rmsprop_centered, 3, lambda w, g, s, t: keras_centered(w, g, s),
                         [1e-3, 0.9, 0.5, 1e-7]),
    "adamax": (R.adamax, 2, lambda w, g, s, t: keras_adamax(w, g, s, t, decay=1e-4), None),
    "nadam": (R.nadam, 2, keras_nadam, None),
    "adadelta": (R.adadelta, 2, lambda w, g, s, t: keras_adadelta(w, g, s), [1.0, 0.95, 1e-7, 0.0]),
    "lion": (R.lion, 1, lambda w, g, s, t: keras_lion(w, g, s, decay=1e-4), [1e-3, 0.9, 0.99, 1e-4]),
    "ftrl": (R.ftrl, 2, lambda w, g, s, t: keras_ftrl(w, g, s), [0.05, -0.5, 0.01, 0.02, 0.03, 0.0]),
    "ftrl power": (R.ftrl, 2, lambda w, g, s, t: keras_ftrl(w, g, s, power=-0.3),
                   [0.05, -0.3, 0.01, 0.02, 0.03, 0.0]),
})


def step_scalars(name, rule, t, scalars):
    if rule in (R.adam, R.adam_amsgrad):
        return adam_scalars(name, t)
    if rule == R.adamax:
        return [1e-3, 0.9, 0.999, 1e-7, 1 - 0.9 ** t, 1e-4]
    if rule == R.nadam:
        return nadam_scalars(t)
    return scalars


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
    slots = [np.abs(rng.standard_normal(n)).astype(dtype) * 0.1 for _ in range(3)]
    if name == "adagrad" or rule == R.ftrl:
        slots[0] += 0.1  # Keras' initial accumulator value
    if rule == R.rmsprop_centered:
        slots[1] = np.minimum(slots[1], 0.5 * np.sqrt(slots[0]))  # v > mean(g)^2, as the rule keeps it
    var = pynn.tensor(w)
    bufs = [pynn.tensor(s) for s in slots[:nslots]]
    w64, s64 = w.astype(np.float64), [s.astype(np.float64) for s in slots]
    for t in range(1, 6):
        g = rng.standard_normal(n).astype(dtype)
        h = step_scalars(name, rule, t, scalars)
        pynn._core._optim_update(rule, [var, pynn.from_numpy(g)] + bufs, h)
        w64, s64 = reference(w64, g.astype(np.float64), s64, t)
    tol = 2e-6 if dtype == "float32" else 1e-12
    if rule == R.ftrl and dtype == "float32":
        tol = 5e-5  # z sums terms ~ sqrt(n) / lr * var, about 20 times larger than itself
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
