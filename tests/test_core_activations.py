"""Activations (Note [Activation registry]): each against a float64 NumPy reference over
random inputs, large |x|, +-inf and NaN, in float32 and float64; gradients by central
differences; the same numbers through Dense's fused epilogue and layers.Activation."""

import math

import numpy as np
import pytest

import pynn
from pynn import activations as A
from pynn.utils import gradcheck

from oracle import isa, threads  # noqa: F401  (fixtures)


def expit(x):
    """float64 logistic sigmoid without overflow (the reference; SciPy is not a dependency)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# float64 complementary error function, element by element from the C library's erfc.
erfc = np.vectorize(math.erfc, otypes=[np.float64])

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _nan_kept(x, y):
    return np.where(np.isnan(x), np.nan, y)


def _gate(x, y):
    """x * g(x) with g -> 0 at -inf, 1 at +inf: the limits at +-inf."""
    return np.where(x == -np.inf, 0.0, np.where(x == np.inf, np.inf, y))


def _relu(x, slope=0.0, max_value=None, threshold=0.0):
    pos = x if max_value is None else np.clip(x, 0, max_value)
    neg = slope * (x - threshold) if slope else np.zeros_like(x)
    return _nan_kept(x, np.where(x > threshold, pos, neg))


def _softplus(x):
    return np.logaddexp(x, 0.0)


def _hard_sigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def _squareplus(x, b=4.0):
    h = np.hypot(x, math.sqrt(b))
    return np.where(x >= 0, (x + h) / 2, b / (2 * (h - x)))


def _gelu_tanh(x):
    return _gate(x, 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))))


# name -> (pynn function of x, float64 reference, kinks to keep gradient checks away from)
CASES = {
    "relu": (A.relu, _relu, [0.0]),
    "relu_slope": (lambda x: A.relu(x, negative_slope=0.3), lambda x: _relu(x, 0.3), [0.0]),
    "relu_max": (lambda x: A.relu(x, max_value=2.5), lambda x: _relu(x, max_value=2.5), [0.0, 2.5]),
    "relu_threshold": (lambda x: A.relu(x, threshold=1.5), lambda x: _relu(x, threshold=1.5), [1.5]),
    "relu_all": (lambda x: A.relu(x, negative_slope=0.5, max_value=5.0, threshold=-1.0),
                 lambda x: _relu(x, 0.5, 5.0, -1.0), [-1.0, 0.0, 5.0]),
    "relu6": (A.relu6, lambda x: _nan_kept(x, np.clip(x, 0, 6)), [0.0, 6.0]),
    "leaky_relu": (A.leaky_relu, lambda x: _nan_kept(x, np.where(x >= 0.2 * x, x, 0.2 * x)), [0.0]),
    "leaky_relu_0.01": (lambda x: A.leaky_relu(x, negative_slope=0.01),
                        lambda x: _nan_kept(x, np.where(x >= 0, x, 0.01 * x)), [0.0]),
    "elu": (A.elu, lambda x: np.where(x >= 0, x, np.expm1(x)), [0.0]),
    "elu_alpha": (lambda x: A.elu(x, alpha=0.5), lambda x: np.where(x >= 0, x, 0.5 * np.expm1(x)), [0.0]),
    "selu": (A.selu, lambda x: SELU_SCALE * np.where(x >= 0, x, SELU_ALPHA * np.expm1(x)), [0.0]),
    "celu": (A.celu, lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)), []),
    "celu_alpha": (lambda x: A.celu(x, alpha=0.5), lambda x: np.maximum(x, 0) + 0.5 * np.expm1(np.minimum(x, 0) / 0.5),
                   [0.0]),
    "softplus": (A.softplus, _softplus, []),
    "log_sigmoid": (A.log_sigmoid, lambda x: -_softplus(-x), []),
    "softsign": (A.softsign, lambda x: np.where(np.isinf(x), np.sign(x), x / (1 + np.abs(x))), []),
    "silu": (A.silu, lambda x: _gate(x, x * expit(x)), []),
    "swish": (A.swish, lambda x: _gate(x, x * expit(x)), []),
    "gelu": (A.gelu, lambda x: _gate(x, 0.5 * x * erfc(-x / math.sqrt(2))), []),
    "gelu_tanh": (lambda x: A.gelu(x, approximate=True), _gelu_tanh, []),
    "mish": (A.mish, lambda x: _gate(x, x * np.tanh(_softplus(x))), []),
    "hard_sigmoid": (A.hard_sigmoid, _hard_sigmoid, [-3.0, 3.0]),
    "hard_silu": (A.hard_silu, lambda x: _gate(x, x * _hard_sigmoid(x)), [-3.0, 3.0]),
    "hard_swish": (A.hard_swish, lambda x: _gate(x, x * _hard_sigmoid(x)), [-3.0, 3.0]),
    "hard_tanh": (A.hard_tanh, lambda x: np.clip(x, -1, 1), [-1.0, 1.0]),
    "sigmoid": (A.sigmoid, expit, []),
    "tanh": (A.tanh, np.tanh, []),
    "exponential": (A.exponential, np.exp, []),
    "soft_shrink": (A.soft_shrink, lambda x: _nan_kept(x, np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
                    [-0.5, 0.5]),
    "soft_shrink_1": (lambda x: A.soft_shrink(x, threshold=1.0),
                      lambda x: _nan_kept(x, np.where(x > 1, x - 1, np.where(x < -1, x + 1, 0))), [-1.0, 1.0]),
    "hard_shrink": (A.hard_shrink, lambda x: _nan_kept(x, np.where(np.abs(x) > 0.5, x, 0)), [-0.5, 0.5]),
    "tanh_shrink": (A.tanh_shrink, lambda x: x - np.tanh(x), []),
    "squareplus": (A.squareplus, _squareplus, []),
    "squareplus_b1": (lambda x: A.squareplus(x, b=1), lambda x: _squareplus(x, 1.0), []),
    "sparse_plus": (A.sparse_plus, lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)), [-1.0, 1.0]),
    "sparse_sigmoid": (A.sparse_sigmoid,
                       lambda x: _nan_kept(x, np.where(x <= -1, 0, np.where(x >= 1, 1, (x + 1) / 2))), [-1.0, 1.0]),
    "threshold": (lambda x: A.threshold(x, 0.25, -2.0), lambda x: _nan_kept(x, np.where(x > 0.25, x, -2.0)), [0.25]),
}

# Whose float32 results may differ from the rounded float64 reference by more than a few
# ulp near 0 (the result cancels there): checked with an absolute tolerance instead.
SPECIAL = np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 50.0, -50.0, 1e3, -1e3,
                    1e30, -1e30, np.inf, -np.inf, np.nan])


def _inputs(dtype):
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.standard_normal(500) * 3, rng.uniform(-8, 8, 300), SPECIAL])
    return x.astype(dtype)


def _reference(ref, x):
    with np.errstate(all="ignore"):
        return np.asarray(ref(x.astype(np.float64)), dtype=np.float64)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_matches_float64_reference(name, dtype, isa):
    fn, ref, _ = CASES[name]
    x = _inputs(dtype)
    y = fn(pynn.tensor(x))
    got = np.asarray(y)
    assert got.dtype == np.dtype(dtype) and got.shape == x.shape
    want = _reference(ref, x).astype(dtype) if dtype == "float32" else _reference(ref, x)
    rtol, atol = (2e-5, 2e-6) if dtype == "float32" else (1e-12, 1e-14)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)
    # NaN in gives NaN out; the infinities give the function's limits (in the reference).
    assert np.isnan(got[-1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_gradient(name):
    fn, _, kinks = CASES[name]
    rng = np.random.default_rng(3)
    x = rng.uniform(-4, 4, 40)
    for k in kinks:  # keep clear of points where the derivative jumps
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    assert gradcheck(fn, [x.reshape(5, 8)])


def _first_derivative(fn):
    """t -> d sum(fn(t)) / dt, computed by an inner tape (recorded by any outer one)."""
    def grad(t):
        with pynn.GradientTape() as inner:
            inner.watch(t)
            y = fn(t)
        return inner.gradient(y, t)
    return grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_second_derivative_by_nested_tapes(name):
    """The derivative functor is itself differentiated (f'' by the second-derivative
    functor), so nested tapes give second derivatives."""
    fn, _, kinks = CASES[name]
    rng = np.random.default_rng(13)
    x = rng.uniform(-4, 4, 30)
    for k in kinks + [0.0]:
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    assert gradcheck(_first_derivative(fn), [x.reshape(5, 6)], atol=1e-5, rtol=1e-4)
    # and the gradient flowing through the incoming gradient g of a recorded backward
    w = rng.standard_normal(x.shape)
    assert gradcheck(lambda g: _first_derivative(lambda t: pynn.ops.multiply(fn(t), g))(pynn.tensor(x)), [w])


def test_third_derivative_says_not_implemented():
    x = pynn.tensor(np.array([0.3, -0.7]))
    with pynn.GradientTape() as t3:
        t3.watch(x)
        with pynn.GradientTape() as t2:
            t2.watch(x)
            with pynn.GradientTape() as t1:
                t1.watch(x)
                y = A.gelu(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    np.testing.assert_allclose(np.asarray(d2), np.exp(-0.5 * np.asarray(x) ** 2) / math.sqrt(2 * math.pi)
                               * (2 - np.asarray(x) ** 2))
    with pytest.raises(NotImplementedError, match="order 3"):
        t3.gradient(d2, x)


@pytest.mark.parametrize("name", ["gelu", "elu", "softplus", "mish"])
def test_dense_fused_second_derivative(name):
    rng = np.random.default_rng(21)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    fused = A.get(name)._fused
    for i, arr in enumerate((x, w, b)):
        def f(t, i=i):
            args = [pynn.tensor(x), pynn.tensor(w), pynn.tensor(b)]
            args[i] = t
            return pynn.ops.dense(*args, fused)
        assert gradcheck(_first_derivative(f), [arr], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_gradient_at_extremes_is_finite_and_right(name, isa):
    """The derivative functor at large |x| and +-inf: the limit of the slope, never NaN."""
    fn, ref, _ = CASES[name]
    if name == "exponential":
        return
    x = np.array([-1e30, -1e3, -50.0, 50.0, 1e3, 1e30])
    xt = pynn.tensor(x)
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
    g = np.asarray(tape.gradient(y, xt))
    assert np.all(np.isfinite(g)), (name, g)
    with np.errstate(all="ignore"):
        h = 1e-3 * np.maximum(1, np.abs(x) * 1e-3)
        numeric = (ref(x + h) - ref(x - h)) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", ["elu", "selu", "softplus", "silu", "gelu", "gelu_tanh", "mish", "leaky_relu",
                                  "relu6", "hard_silu", "soft_shrink", "squareplus", "celu", "sparse_plus",
                                  "log_sigmoid", "softsign", "hard_tanh", "tanh_shrink", "exponential"])
@pytest.mark.parametrize("shape", [(7, 5, 3), (64, 256, 64)])
def test_dense_fuses_the_activation(name, shape, threads):
    """Dense(activation=name) runs the activation in the GEMM epilogue: the same values and
    gradients as the activation applied after a linear Dense (the large shape drops zero
    input columns: Note [Zero input columns])."""
    n, k, units = shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, k))
    x[:, ::4] = 0.0
    w, b = rng.standard_normal((k, units)) * 0.3, rng.standard_normal(units)
    fn = A.get(name) if name != "gelu_tanh" else (lambda t: A.gelu(t, approximate=True))
    fused_op = A.get(name)._fused if name != "gelu_tanh" else (pynn._core._Act.gelu_tanh, ())
    xt, wt, bt = pynn.tensor(x), pynn.tensor(w), pynn.tensor(b)
    with pynn.GradientTape(persistent=True) as tape:
        for t in (xt, wt, bt):
            tape.watch(t)
        fused = pynn.ops.dense(xt, wt, bt, fused_op)
        plain = fn(pynn.ops.dense(xt, wt, bt, None))
    np.testing.assert_allclose(np.asarray(fused), np.asarray(plain), rtol=1e-12, atol=1e-12)
    for gf, gp in zip(tape.gradient(fused, [xt, wt, bt]), tape.gradient(plain, [xt, wt, bt])):
        np.testing.assert_allclose(np.asarray(gf), np.asarray(gp), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["gelu", "elu", "hard_silu", "threshold"])
def test_dense_and_activation_layers_by_name(name):
    fn = (lambda x: A.threshold(x, 0.0, 0.0)) if name == "threshold" else A.get(name)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4)).astype("float32")
    dense = pynn.layers.Dense(3, activation=name if name != "threshold" else fn)
    y = dense(pynn.tensor(x))
    lin = x @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    np.testing.assert_allclose(np.asarray(y), np.asarray(fn(pynn.tensor(lin))), rtol=1e-5, atol=1e-6)
    if name != "threshold":
        layer = pynn.layers.Activation(name)
        np.testing.assert_allclose(np.asarray(layer(pynn.tensor(x))), np.asarray(fn(pynn.tensor(x))))
        assert pynn.layers.Activation.from_config(layer.get_config()).activation is fn


def test_dense_fused_float32_matches_float64():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((9, 6)), rng.standard_normal((6, 4))
    y32 = pynn.ops.dense(pynn.tensor(x.astype("float32")), pynn.tensor(w.astype("float32")), None, A.gelu._fused)
    ref = _reference(CASES["gelu"][1], x @ w)
    np.testing.assert_allclose(np.asarray(y32), ref, rtol=1e-5, atol=1e-5)


def test_get_resolves_every_keras_name():
    names = ["relu", "leaky_relu", "relu6", "softmax", "celu", "elu", "selu", "softplus", "softsign", "squareplus",
             "soft_shrink", "sparse_plus", "silu", "swish", "gelu", "glu", "tanh", "tanh_shrink", "threshold",
             "sigmoid", "sparse_sigmoid", "exponential", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
             "hard_shrink", "linear", "mish", "log_softmax", "log_sigmoid", "sparsemax"]
    for n in names:
        fn = A.get(n)
        assert callable(fn)
        assert A.get(A.serialize(fn)) is fn
    assert A.serialize(A.get("swish")) == "silu"
    assert A.get(None) is A.linear
    with pytest.raises(ValueError, match="unknown activation"):
        A.get("typo")


def test_integer_input_computes_in_float():
    x = np.array([-2, -1, 0, 1, 2], dtype=np.int32)
    y = A.elu(pynn.tensor(x))
    assert y.dtype == pynn.float64
    np.testing.assert_allclose(np.asarray(y), np.where(x >= 0, x, np.expm1(x)))


def test_strided_input():
    x = np.random.default_rng(0).standard_normal((6, 8))[::2, ::-3]
    np.testing.assert_allclose(np.asarray(A.mish(pynn.tensor(x))), x * np.tanh(_softplus(x)), rtol=1e-12)


# ---------------------------------------------------------------- not element-wise

def _np_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, 1, (0, 1), (1, 2), (0, 2), (0, 1, 2), (2, 0), None])
def test_softmax_and_log_softmax_over_axes(axis):
    x = np.random.default_rng(4).standard_normal((3, 4, 5)) * 4
    ax = tuple(range(3)) if axis is None else axis
    np.testing.assert_allclose(np.asarray(A.softmax(pynn.tensor(x), axis=axis)), _np_softmax(x, ax), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(A.log_softmax(pynn.tensor(x), axis=axis)), np.log(_np_softmax(x, ax)),
                               rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(x.shape)
    assert gradcheck(lambda t: pynn.ops.multiply(A.softmax(t, axis=axis), w), [x])
    assert gradcheck(lambda t: pynn.ops.multiply(A.log_softmax(t, axis=axis), w), [x])


def _np_glu(x, axis):
    a, b = np.split(x, 2, axis)
    return a * expit(b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_glu(axis, dtype):
    x = (np.random.default_rng(6).standard_normal((4, 6)) * 5).astype(dtype)
    x[0, 0], x[1, 1] = 80.0, -80.0
    got = A.glu(pynn.tensor(x), axis=axis)
    np.testing.assert_allclose(np.asarray(got), _np_glu(x.astype(np.float64), axis).astype(dtype),
                               rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-7)
    assert gradcheck(lambda t: A.glu(t, axis=axis), [x.astype(np.float64) / 10])


def test_glu_odd_axis_raises():
    with pytest.raises(ValueError, match="glu"):
        A.glu(pynn.tensor(np.zeros((2, 3))))


def _np_sparsemax(x, axis=-1):
    """The sorting algorithm of Martins and Astudillo (2016), in float64."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    z = -np.sort(-x, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    cums = np.cumsum(z, axis=-1)
    support = 1 + k * z > cums
    kz = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cums, kz - 1, axis=-1) - 1) / kz
    return np.moveaxis(np.maximum(x - tau, 0), -1, axis)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_matches_reference(axis, dtype):
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((7, 9)) * 2).astype(dtype)
    x[0] = 1e4 * rng.standard_normal(9)   # large |x|
    x[1, :3] = x[1, 3]                     # ties
    y = np.asarray(A.sparsemax(pynn.tensor(x), axis=axis))
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, _np_sparsemax(x, axis), rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-5)


def test_sparsemax_non_finite_rows_give_nan():
    x = np.array([[1.0, np.nan, 0.0], [np.inf, 1.0, 0.0], [0.5, 0.2, 0.1]])
    y = np.asarray(A.sparsemax(pynn.tensor(x)))
    assert np.isnan(y[:2]).all()
    np.testing.assert_allclose(y[2], _np_sparsemax(x[2:])[0])


def test_sparsemax_gradient():
    x = np.random.default_rng(9).standard_normal((4, 6))
    w = np.random.default_rng(10).standard_normal((4, 6))
    assert gradcheck(lambda t: pynn.ops.multiply(A.sparsemax(t), w), [x])
    assert gradcheck(lambda t: pynn.ops.multiply(A.sparsemax(t, axis=0), w), [x])


@pytest.mark.parametrize("name", ["gelu", "hard_silu", "relu_all", "threshold"])
def test_large_input_split_over_threads(name, threads):
    """The params operand (stride 0) is right in every thread's range."""
    fn, ref, _ = CASES[name]
    x = np.random.default_rng(11).standard_normal((300, 401)) * 4
    xt = pynn.tensor(x)
    np.testing.assert_allclose(np.asarray(fn(xt)), _reference(ref, x), rtol=1e-12, atol=1e-14)
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
    g = np.asarray(tape.gradient(y, xt))
    with np.errstate(all="ignore"):
        numeric = (ref(x + 1e-6) - ref(x - 1e-6)) / 2e-6
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-5)  # random x misses the kinks


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_expm1_and_log1p_stay_relatively_exact(dtype):
    """elu's exp(x) - 1 near 0 and softplus' log(1 + e^-|x|) far out are computed without
    cancellation (Kahan's trick in the functors): relative error of a few ulp."""
    eps = np.finfo(dtype).eps
    x = -np.logspace(-30, 1.5, 2000).astype(dtype)
    np.testing.assert_allclose(np.asarray(A.elu(pynn.tensor(x))), np.expm1(x.astype(np.float64)), rtol=8 * eps, atol=0)
    xs = np.linspace(-80, 80, 20001).astype(dtype)
    with np.errstate(all="ignore"):
        ref = np.logaddexp(xs.astype(np.float64), 0)
    np.testing.assert_allclose(np.asarray(A.softplus(pynn.tensor(xs))), ref, rtol=8 * eps, atol=0)
    np.testing.assert_allclose(np.asarray(A.log_sigmoid(pynn.tensor(-xs))), -ref, rtol=8 * eps, atol=0)


def test_model_with_registry_activations_trains_saves_and_loads(tmp_path):
    pynn.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    layers = pynn.layers
    model = pynn.Sequential([layers.Input(shape=(8,)), layers.Dense(16, activation="gelu"), layers.Activation("mish"),
                             layers.Dense(16, activation="leaky_relu"), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    loss = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert loss[-1] < loss[0]
    model.save(str(tmp_path / "m.pynn"))
    again = pynn.models.load_model(str(tmp_path / "m.pynn"))
    assert again.layers[0].activation is A.gelu and again.layers[1].activation is A.mish
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_empty_inputs():
    e = pynn.tensor(np.zeros((0, 3)))
    assert A.gelu(e).shape == (0, 3) and A.sparsemax(e).shape == (0, 3) and A.glu(pynn.tensor(np.zeros((0, 4)))).shape == (0, 2)
    assert pynn.ops.dense(e, pynn.tensor(np.ones((3, 2))), None, A.gelu._fused).shape == (0, 2)
    # softmax over an empty axis (rows of 0 classes) used to fail reshaping to (-1, 0)
    assert A.softmax(pynn.tensor(np.zeros((2, 0, 3))), axis=(1, 2)).shape == (2, 0, 3)
    assert pynn.softmax(pynn.tensor(np.zeros((2, 0)))).shape == (2, 0)
    with pytest.raises(ValueError, match="glu"):
        A.glu(pynn.tensor(np.float32(1)))


def test_sparsemax_in_row_blocks():
    """Many rows are done in blocks (bounded memory); the blocks join up exactly."""
    x = np.random.default_rng(12).standard_normal((300, 150))
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x))), _np_sparsemax(x), rtol=1e-12, atol=1e-15)
