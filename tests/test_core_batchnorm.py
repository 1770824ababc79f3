"""Batch normalization as one fused op (Note [Batch norm] in csrc/kernels/norm.h): ops.batch_norm and
BatchNormalization against a float64 NumPy reference and against the composed ops it replaced."""

import numpy as np
import pytest

import pynn
from pynn import initializers, layers, ops
from pynn.utils import gradcheck

from oracle import assert_like_numpy, assert_same_state, captured_and_eager
from oracle import isa  # noqa: F401  (fixtures)

EPS = 1e-3
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-10)}

# (shape, axis): the (batch, features) case, both 4-D layouts, a case with whole features per
# thread (inner > 1 and >= 16 features), one with several row blocks, and tall and narrow.
CASES = [((16, 5), -1), ((4, 6, 3, 5), 1), ((4, 6, 3, 5), -1), ((3, 20, 4, 4), 1), ((300, 256), -1),
         ((5000, 3), 1), ((7,), 0)]
CASE_IDS = [f"{'x'.join(map(str, s))}-axis{a}" for s, a in CASES]


def _stat_shape(shape, axis):
    axis %= len(shape)
    return tuple(n if i == axis else 1 for i, n in enumerate(shape)), tuple(i for i in range(len(shape)) if i != axis)


def _np_forward(x, gamma, beta, mean, var, axis):
    """y in float64 with the given per-feature statistics."""
    sh, _ = _stat_shape(x.shape, axis)
    x = x.astype(np.float64)
    y = (x - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + EPS)
    if gamma is not None:
        y = y * gamma.astype(np.float64).reshape(sh)
    if beta is not None:
        y = y + beta.astype(np.float64).reshape(sh)
    return y


def _np_batch_stats(x, axis):
    _, axes = _stat_shape(x.shape, axis)
    x = x.astype(np.float64)
    return x.mean(axes), x.var(axes)


def _np_training_grads(x, gamma, dy, axis):
    """dx, dgamma, dbeta of the training-mode batch norm, the textbook formula in float64."""
    sh, axes = _stat_shape(x.shape, axis)
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    n = x.size // x.shape[axis]
    mean, var = _np_batch_stats(x, axis)
    inv = 1 / np.sqrt(var + EPS)
    xhat = (x - mean.reshape(sh)) * inv.reshape(sh)
    g = np.ones(x.shape[axis]) if gamma is None else gamma.astype(np.float64)
    sum_dy, sum_dy_xhat = dy.sum(axes), (dy * xhat).sum(axes)
    dx = (g * inv).reshape(sh) / n * (n * dy - sum_dy.reshape(sh) - xhat * sum_dy_xhat.reshape(sh))
    return dx, sum_dy_xhat, sum_dy


def _composed(x, gamma, beta, axis, training, moving_mean=None, moving_var=None):
    """BatchNormalization.call as it was before the fused op: element-wise ops and reductions."""
    axis %= x.ndim
    sh, axes = _stat_shape(x.shape, axis)
    if training:
        mean = ops.mean(x, axis=axes, keepdims=True)
        centered = ops.subtract(x, mean)
        var = ops.mean(ops.square(centered), axis=axes, keepdims=True)
    else:
        centered = ops.subtract(x, ops.reshape(moving_mean, sh))
        var = ops.reshape(moving_var, sh)
    y = ops.divide(centered, ops.sqrt(ops.add(var, EPS)))
    if gamma is not None:
        y = ops.multiply(y, ops.reshape(gamma, sh))
    if beta is not None:
        y = ops.add(y, ops.reshape(beta, sh))
    return y


def _fused(x, gamma, beta, axis, training, moving_mean=None, moving_var=None):
    return ops.batch_norm(x, axis, gamma, beta, EPS, training, moving_mean, moving_var)[0]


def _inputs(shape, axis, dtype, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[axis]
    x = rng.normal(3, 2, shape).astype(dtype)
    gamma = rng.uniform(0.5, 2, c).astype(dtype)
    beta = rng.normal(size=c).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    return x, gamma, beta, dy


def _grads(fn, x, gamma, beta, dy, *more):
    """The tape's gradients of sum(fn(x, gamma, beta, *more) * dy) w.r.t. x, gamma, beta, *more.
    NumPy arrays are shared (from_numpy), so a strided view stays strided."""
    def t(a):
        return a if a is None or isinstance(a, pynn.Tensor) else pynn.from_numpy(np.asarray(a))

    srcs = [t(a) for a in (x, gamma, beta, *more)]
    with pynn.GradientTape() as tape:
        for s in srcs:
            if s is not None:
                tape.watch(s)
        y = fn(*srcs)
    return y, tape.gradient(y, srcs, output_gradients=t(dy))


# ---------------------------------------------------------------- forward

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,axis", CASES, ids=CASE_IDS)
def test_training_forward_matches_numpy(shape, axis, dtype):
    x, gamma, beta, _ = _inputs(shape, axis, dtype)
    y, mean, var = ops.batch_norm(x, axis, gamma, beta, EPS, training=True)
    m, v = _np_batch_stats(x, axis)
    assert_like_numpy(y, _np_forward(x, gamma, beta, m, v, axis).astype(dtype), **TOL[dtype])
    assert_like_numpy(mean, m.astype(dtype), **TOL[dtype])
    assert_like_numpy(var, v.astype(dtype), **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,axis", CASES, ids=CASE_IDS)
def test_inference_forward_matches_numpy(shape, axis, dtype):
    x, gamma, beta, _ = _inputs(shape, axis, dtype)
    rng = np.random.default_rng(1)
    mm = rng.normal(size=shape[axis]).astype(dtype)
    mv = rng.uniform(0.5, 3, shape[axis]).astype(dtype)
    y, mean, var = ops.batch_norm(x, axis, gamma, beta, EPS, training=False, moving_mean=mm, moving_variance=mv)
    assert_like_numpy(y, _np_forward(x, gamma, beta, mm.astype(np.float64), mv.astype(np.float64), axis)
                      .astype(dtype), **TOL[dtype])
    assert np.array_equal(np.asarray(mean), mm) and np.array_equal(np.asarray(var), mv)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("use_gamma,use_beta", [(False, False), (True, False), (False, True)])
def test_without_gamma_or_beta(use_gamma, use_beta, training):
    x, gamma, beta, dy = _inputs((4, 6, 3, 5), 1, "float64")
    gamma, beta = (gamma if use_gamma else None), (beta if use_beta else None)
    mm, mv = np.linspace(-1, 1, 6), np.linspace(0.5, 2, 6)
    more = () if training else (mm, mv)
    y, grads = _grads(lambda *a: _fused(a[0], a[1], a[2], 1, training, *a[3:]), x, gamma, beta, dy, *more)
    y0, grads0 = _grads(lambda *a: _composed(a[0], a[1], a[2], 1, training, *a[3:]), x, gamma, beta, dy, *more)
    np.testing.assert_allclose(np.asarray(y), np.asarray(y0), rtol=1e-12, atol=1e-12)
    for g, g0 in zip(grads, grads0, strict=True):
        assert (g is None) == (g0 is None)
        if g is not None:
            np.testing.assert_allclose(np.asarray(g), np.asarray(g0), rtol=1e-10, atol=1e-10)


def test_non_contiguous_input():
    base, gamma, beta, _ = _inputs((6, 10, 8), 1, "float32")
    rng = np.random.default_rng(3)
    for view in [base.transpose(2, 1, 0), base[::2, :, ::-1], np.repeat(base, 2, axis=-1)[..., ::2]]:
        xt = pynn.from_numpy(view)
        assert not xt.is_contiguous()
        for axis in (1, -1):
            g, b = gamma[:view.shape[axis]], beta[:view.shape[axis]]
            y, mean, var = ops.batch_norm(xt, axis, g, b, EPS, training=True)
            m, v = _np_batch_stats(view, axis)
            assert_like_numpy(y, _np_forward(view, g, b, m, v, axis).astype(np.float32), **TOL["float32"])
            # gradients too: the backward makes its own contiguous copy of x
            d = rng.normal(size=view.shape).astype(np.float32)
            _, (gx, gg, gb) = _grads(lambda *a: _fused(a[0], a[1], a[2], axis, True), xt, g, b, d)
            rx, rg, rb = _np_training_grads(view, g, d, axis)
            assert_like_numpy(gx, rx.astype(np.float32), rtol=1e-4, atol=1e-4)
            assert_like_numpy(gg, rg.astype(np.float32), rtol=1e-4, atol=1e-4)
            assert_like_numpy(gb, rb.astype(np.float32), rtol=1e-4, atol=1e-4)
    # strided gamma and a non-contiguous gradient
    x, gamma, beta, dy = _inputs((8, 5), -1, "float64")
    g2 = np.repeat(gamma, 2)[::2]
    y = ops.batch_norm(x, -1, pynn.from_numpy(g2), beta, EPS, training=True)[0]
    assert_like_numpy(y, _np_forward(x, gamma, beta, *_np_batch_stats(x, -1), -1), **TOL["float64"])
    _, (gx, _, _) = _grads(lambda *a: _fused(a[0], a[1], a[2], -1, True), x, gamma, beta,
                           np.asfortranarray(dy))
    assert_like_numpy(gx, _np_training_grads(x, gamma, dy, -1)[0], **TOL["float64"])


# ---------------------------------------------------------------- the layer

def test_layer_moving_statistics_and_inference():
    x, _, _, _ = _inputs((32, 7), -1, "float32")
    bn = layers.BatchNormalization(momentum=0.9, gamma_initializer=initializers.RandomUniform(0.5, 2, seed=1),
                                   beta_initializer=initializers.RandomNormal(seed=2))
    bn.build((None, 7))
    gamma, beta, mm, mv = bn.get_weights()
    for step in range(3):
        xs = x + step
        y = bn(xs, training=True)
        m, v = _np_batch_stats(xs, -1)
        assert_like_numpy(y, _np_forward(xs, gamma, beta, m, v, -1).astype(np.float32), **TOL["float32"])
        mm, mv = mm * 0.9 + m * 0.1, mv * 0.9 + v * 0.1
        np.testing.assert_allclose(np.asarray(bn.moving_mean), mm, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(bn.moving_variance), mv, rtol=1e-5, atol=1e-5)
    mm, mv = np.asarray(bn.moving_mean), np.asarray(bn.moving_variance)
    assert_like_numpy(bn(x), _np_forward(x, gamma, beta, mm.astype(np.float64), mv.astype(np.float64), -1)
                      .astype(np.float32), **TOL["float32"])
    bn.trainable = False  # frozen: inference mode, the moving statistics stay
    before = bn.get_weights()
    assert_like_numpy(bn(x, training=True), np.asarray(bn(x)))
    for a, b in zip(before, bn.get_weights()):
        assert np.array_equal(a, b)


def test_layer_matches_the_composed_ops():
    """The fused layer against BatchNormalization.call as it was composed before: the same
    outputs, moving statistics and gradients up to float32 rounding."""
    x, _, _, dy = _inputs((64, 4, 3, 9), 1, "float32")
    bn = layers.BatchNormalization(axis=1, momentum=0.5, gamma_initializer=initializers.RandomUniform(0.5, 2, seed=3))
    bn.build((None, 4, 3, 9))
    gamma, beta, mm, mv = [pynn.tensor(w) for w in bn.get_weights()]
    xt = pynn.tensor(x)
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = bn(xt, training=True)
    grads = tape.gradient(y, [xt, bn.gamma, bn.beta], output_gradients=pynn.tensor(dy))
    with pynn.GradientTape() as tape:
        tape.watch([xt, gamma, beta])
        mean = ops.mean(xt, axis=(0, 2, 3))
        var = ops.mean(ops.square(ops.subtract(xt, ops.reshape(mean, (1, 4, 1, 1)))), axis=(0, 2, 3))
        y0 = _composed(xt, gamma, beta, 1, True)
    grads0 = tape.gradient(y0, [xt, gamma, beta], output_gradients=pynn.tensor(dy))
    np.testing.assert_allclose(np.asarray(y), np.asarray(y0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), 0.5 * np.asarray(mm) + 0.5 * np.asarray(mean), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), 0.5 * np.asarray(mv) + 0.5 * np.asarray(var),
                               rtol=1e-5)
    for g, g0 in zip(grads, grads0, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(g0), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,axis", CASES, ids=CASE_IDS)
def test_training_gradients_match_numpy_and_composed_ops(shape, axis, dtype):
    x, gamma, beta, dy = _inputs(shape, axis, dtype)
    _, (gx, gg, gb) = _grads(lambda *a: _fused(*a, axis, True), x, gamma, beta, dy)
    rx, rg, rb = _np_training_grads(x, gamma, dy, axis)
    tol = TOL[dtype] if dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
    assert_like_numpy(gx, rx.astype(dtype), **tol)
    assert_like_numpy(gg, rg.astype(dtype), **tol)
    assert_like_numpy(gb, rb.astype(dtype), **tol)
    _, composed = _grads(lambda *a: _composed(*a, axis, True), x, gamma, beta, dy)
    for g, g0 in zip((gx, gg, gb), composed):
        np.testing.assert_allclose(np.asarray(g), np.asarray(g0), **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,axis", CASES[:4], ids=CASE_IDS[:4])
def test_inference_gradients_match_composed_ops(shape, axis, dtype):
    """Inference: dx = dy * gamma * inv_std; the moving statistics take gradients when watched."""
    x, gamma, beta, dy = _inputs(shape, axis, dtype)
    rng = np.random.default_rng(2)
    mm = rng.normal(size=shape[axis]).astype(dtype)
    mv = rng.uniform(0.5, 3, shape[axis]).astype(dtype)
    _, grads = _grads(lambda *a: _fused(*a[:3], axis, False, *a[3:]), x, gamma, beta, dy, mm, mv)
    _, grads0 = _grads(lambda *a: _composed(*a[:3], axis, False, *a[3:]), x, gamma, beta, dy, mm, mv)
    tol = TOL[dtype] if dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
    for g, g0 in zip(grads, grads0, strict=True):
        assert g.dtype == g0.dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(g0), **tol)
    sh, _ = _stat_shape(shape, axis)
    expect = dy.astype(np.float64) * (gamma.astype(np.float64) / np.sqrt(mv.astype(np.float64) + EPS)).reshape(sh)
    assert_like_numpy(grads[0], expect.astype(dtype), **tol)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("shape,axis", [((6, 3), -1), ((3, 2, 2, 3), 1)])
def test_gradcheck(shape, axis, training):
    x, gamma, beta, _ = _inputs(shape, axis, "float64", seed=4)
    r = pynn.tensor(np.random.default_rng(5).normal(size=shape))  # a non-uniform upstream gradient
    if training:
        assert gradcheck(lambda a, g, b: ops.multiply(_fused(a, g, b, axis, True), r), [x, gamma, beta])
    else:
        mm, mv = np.linspace(-1, 1, shape[axis]), np.linspace(0.5, 2, shape[axis])
        assert gradcheck(lambda a, g, b, m, v: ops.multiply(_fused(a, g, b, axis, False, m, v), r),
                         [x, gamma, beta, mm, mv])


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_second_order_gradients_through_nested_tapes(training, monkeypatch):
    """An outer tape records the backward (as recorded ops, not the fused kernel): the gradient
    of a function of the gradient matches the composed ops' and central differences."""
    fused_calls = []
    fused_backward = pynn._core._batch_norm_backward
    monkeypatch.setattr(pynn._core, "_batch_norm_backward", lambda *a: fused_calls.append(1) or fused_backward(*a))
    x, gamma, beta, _ = _inputs((5, 4), -1, "float64", seed=6)
    r = pynn.tensor(np.random.default_rng(7).normal(size=(5, 4)))
    mm, mv = pynn.tensor(np.linspace(-1, 1, 4)), pynn.tensor(np.linspace(0.5, 2, 4))

    def second(fn, xs, gs):
        xs, gs = pynn.tensor(xs), pynn.tensor(gs)
        with pynn.GradientTape() as outer:
            outer.watch([xs, gs])
            with pynn.GradientTape() as inner:
                inner.watch([xs, gs])
                y = ops.multiply(fn(xs, gs, pynn.tensor(beta), 1, training, mm, mv), r)
            dx, dg = inner.gradient(y, [xs, gs])
            z = ops.add(ops.sum(ops.square(dx)), ops.sum(ops.multiply(dg, dg)))
        return z, outer.gradient(z, [xs, gs])

    z, (hx, hg) = second(_fused, x, gamma)
    assert not fused_calls  # the inner backward was recorded ops; the outer one differentiated them
    _grads(lambda *a: _fused(*a, -1, training, mm, mv), x, gamma, beta, np.ones_like(x))
    assert fused_calls  # a first-order gradient takes the fused kernel
    z0, (hx0, hg0) = second(_composed, x, gamma)
    np.testing.assert_allclose(float(z), float(z0), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(hx), np.asarray(hx0), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.asarray(hg), np.asarray(hg0), rtol=1e-8, atol=1e-10)
    # central differences of z(x)
    h, num = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        num[i] = (float(second(_fused, up, gamma)[0]) - float(second(_fused, down, gamma)[0])) / (2 * h)
    np.testing.assert_allclose(np.asarray(hx), num, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- threads, errors, edges

@pytest.mark.parametrize("shape,axis", CASES, ids=CASE_IDS)
def test_one_and_two_threads_agree(shape, axis):
    """The split depends on the shape only (Note [Batch norm]): the same bits on 1 and 2 threads."""
    x, gamma, beta, dy = _inputs(shape, axis, "float32")
    old = pynn.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            pynn.set_num_threads(n)
            y, grads = _grads(lambda *a: _fused(*a, axis, True), x, gamma, beta, dy)
            results.append([np.asarray(t) for t in (y, *grads)])
    finally:
        pynn.set_num_threads(old)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        assert np.array_equal(a, b)


@pytest.mark.parametrize("shape,axis", [((300, 256), -1), ((4, 20, 5, 7), 1), ((6, 3, 9), 1)])
def test_every_simd_path(isa, shape, axis):
    """The loops are compiled once per ISA (Note [Kernel table]): each path against NumPy."""
    for dtype in ("float32", "float64"):
        x, gamma, beta, dy = _inputs(shape, axis, dtype)
        y, (gx, gg, gb) = _grads(lambda *a: _fused(*a, axis, True), x, gamma, beta, dy)
        tol = TOL[dtype] if dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
        assert_like_numpy(y, _np_forward(x, gamma, beta, *_np_batch_stats(x, axis), axis).astype(dtype), **tol)
        for got, want in zip((gx, gg, gb), _np_training_grads(x, gamma, dy, axis)):
            assert_like_numpy(got, want.astype(dtype), **tol)


def test_errors_name_the_op_and_shapes():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(TypeError, match="batch_norm: x must be float32 or float64, got int64"):
        ops.batch_norm(np.zeros((4, 3), np.int64))
    with pytest.raises(ValueError, match=r"batch_norm: gamma has shape \(4,\), expected \(3,\): the size of axis 1 "
                                         r"of x with shape \(4,3\)"):
        ops.batch_norm(x, -1, np.ones(4, np.float32))
    with pytest.raises(TypeError, match="batch_norm: beta is float64 but x is float32; they must match"):
        ops.batch_norm(x, -1, None, np.ones(3))
    with pytest.raises(ValueError, match="batch_norm: inference needs moving_mean and moving_variance"):
        ops.batch_norm(x, -1, training=False)
    with pytest.raises(pynn.AxisError, match="batch_norm"):
        ops.batch_norm(x, 2)
    with pytest.raises(ValueError, match="batch_norm: x must have at least one axis"):
        ops.batch_norm(np.float32(1))


def test_empty_batch():
    y, mean, var = ops.batch_norm(np.zeros((0, 3), np.float32), -1, np.ones(3, np.float32), None, EPS, True)
    assert y.shape == (0, 3) and np.isnan(np.asarray(mean)).all() and np.isnan(np.asarray(var)).all()
    xt = pynn.tensor(np.zeros((2, 0), np.float64))
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = ops.batch_norm(xt, -1, None, None, EPS, True)[0]
    assert tape.gradient(y, xt).shape == (2, 0)


# ---------------------------------------------------------------- captured training steps

def test_fit_captured_matches_eager():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 256)
    x = (rng.normal(0, 1, (10, 784))[y] + rng.normal(0, 1, (256, 784))).astype(np.float32)

    def make(**options):
        m = pynn.Sequential([layers.Input((784,)), layers.Dense(512), layers.BatchNormalization(), layers.ReLU(),
                             layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    (ha, a), (hb, b) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=64, epochs=2, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)
    # and evaluation (inference mode) of the trained models agrees
    assert a.evaluate(x, y, verbose=0) == b.evaluate(x, y, verbose=0)
