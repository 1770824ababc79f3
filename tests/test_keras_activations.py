"""Keras 3's stated numbers for its activations (keras/src/activations/activations_test.py
and keras/src/ops/nn_test.py, NNOpsCorrectnessTest)."""

import math
from itertools import combinations

import numpy as np
import pytest

import pynn
from pynn import activations as A

X5 = np.array([-1, 0, 1, 2, 3], dtype=np.float32)
XS = np.array([-0.5, 0, 1, 2, 3], dtype=np.float32)

# (function, input, Keras' expected output); Keras' assertAllClose tolerance is 1e-6 / 1e-6.
OPS_NUMBERS = [
    (A.relu, X5, [0, 0, 1, 2, 3]),
    (A.relu6, np.arange(-1, 8, dtype=np.float32), [0, 0, 1, 2, 3, 4, 5, 6, 6]),
    (A.sigmoid, X5, [0.26894143, 0.5, 0.7310586, 0.880797, 0.95257413]),
    (A.sparse_sigmoid, X5, [0.0, 0.5, 1.0, 1.0, 1.0]),
    (A.softplus, X5, [0.31326166, 0.6931472, 1.3132616, 2.126928, 3.0485873]),
    (A.softsign, X5, [-0.5, 0, 0.5, 0.6666667, 0.75]),
    (A.silu, X5, [-0.26894143, 0, 0.7310586, 1.7615942, 2.8577223]),
    (A.log_sigmoid, X5, [-1.3132616, -0.6931472, -0.31326166, -0.126928, -0.04858732]),
    (A.leaky_relu, X5, [-0.2, 0, 1, 2, 3]),
    (A.hard_sigmoid, X5, [0.33333334, 0.5, 0.6666667, 0.8333334, 1.0]),
    (A.hard_silu, np.arange(-3, 4, dtype=np.float32), [-0.0, -0.333333, -0.333333, 0.0, 0.6666667, 1.6666667, 3.0]),
    (A.elu, X5, [-0.63212055, 0, 1, 2, 3]),
    (lambda x: A.elu(x, alpha=0.5), X5, [-0.31606027, 0, 1, 2, 3]),
    (A.selu, X5, [-1.1113307, 0.0, 1.050701, 2.101402, 3.152103]),
    # keras.ops.gelu defaults to the tanh approximation (keras.activations.gelu does not)
    (lambda x: A.gelu(x, approximate=True), X5, [-0.15880796, 0.0, 0.841192, 1.9545977, 2.9963627]),
    (A.celu, X5, [-0.63212055, 0.0, 1.0, 2.0, 3.0]),
    (A.glu, np.arange(-1, 5, dtype=np.float32), [-0.8807971, 0.0, 0.98201376]),
    (A.tanh_shrink, X5, [-0.238406, 0.0, 0.238406, 1.035972, 2.004945]),
    (A.hard_tanh, X5, [-1.0, 0.0, 1.0, 1.0, 1.0]),
    (A.hard_shrink, XS, [0.0, 0.0, 1.0, 2.0, 3.0]),
    (lambda x: A.threshold(x, 0, 0), XS, [0.0, 0.0, 1.0, 2.0, 3.0]),
    (A.squareplus, XS, [0.780776, 1.0, 1.618034, 2.414214, 3.302776]),
    (A.soft_shrink, XS, [0.0, 0.0, 0.5, 1.5, 2.5]),
    (A.sparse_plus, XS, [0.0625, 0.25, 1.0, 2.0, 3.0]),
    (A.sparsemax, XS, [0.0, 0.0, 0.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("i", range(len(OPS_NUMBERS)))
def test_keras_ops_numbers(i):
    fn, x, expected = OPS_NUMBERS[i]
    y = fn(pynn.tensor(x))
    assert y.dtype == pynn.float32
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-6, atol=1e-6)


def test_exact_gelu_is_x_times_the_normal_cdf():
    # keras.activations.gelu(approximate=False): x * norm.cdf(x)
    x = np.random.default_rng(0).random((2, 5))
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x.ravel()]).reshape(x.shape)
    np.testing.assert_allclose(np.asarray(A.gelu(pynn.tensor(x))), x * cdf, rtol=1e-5)


X10 = np.array([-10, -5, 0.0, 5, 10])


@pytest.mark.parametrize("kwargs, expected", [
    (dict(negative_slope=0.5), [-5.0, -2.5, 0.0, 5.0, 10.0]),
    (dict(max_value=5.0), [0.0, 0.0, 0.0, 5.0, 5.0]),
    (dict(threshold=5.0), [-0.0, -0.0, 0.0, 0.0, 10.0]),
    (dict(threshold=5.0, max_value=5.0), [0.0, 0.0, 0.0, 0.0, 5.0]),
    (dict(negative_slope=0.5, max_value=5.0, threshold=5.0), [-7.5, -5.0, -2.5, 0.0, 5.0]),
])
def test_relu_options(kwargs, expected):
    np.testing.assert_allclose(np.asarray(A.relu(pynn.tensor(X10), **kwargs)), expected, rtol=1e-5)


def test_relu_max_value_6():
    x = np.array([-10, -5, 0.0, 5, 10, 12])
    np.testing.assert_allclose(np.asarray(A.relu(pynn.tensor(x), max_value=6.0)), [0.0, 0.0, 0.0, 5.0, 6.0, 6.0])


def test_selu_and_elu_negative_values():
    neg = np.array([[-1, -2]], dtype=np.float32)
    np.testing.assert_allclose(np.asarray(A.selu(pynn.tensor(neg))),
                               (np.exp(neg) - 1) * 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717,
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(A.elu(pynn.tensor(neg))), np.exp(neg) - 1, rtol=1e-6)


def test_hard_silu_is_zero_below_minus_three():
    x = np.random.default_rng(0).uniform(-10, -3, 20)
    np.testing.assert_allclose(np.asarray(A.hard_silu(pynn.tensor(x))), 0.0)


def test_softmax_numbers():
    x = np.array([[1, 2, 3], [1, 2, 3]], dtype=np.float32)
    row = [0.09003057, 0.24472848, 0.66524094]
    np.testing.assert_allclose(np.asarray(A.softmax(pynn.tensor(x), axis=None)),
                               [[0.045015, 0.122364, 0.33262]] * 2, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(A.softmax(pynn.tensor(x), axis=0)), [[0.5] * 3] * 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(A.softmax(pynn.tensor(x))), [row] * 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(A.log_softmax(pynn.tensor(x), axis=None)),
                               [[-3.100753, -2.100753, -1.100753]] * 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(A.log_softmax(pynn.tensor(x), axis=0)), [[-0.693147] * 3] * 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(A.log_softmax(pynn.tensor(x))), [[-2.407606, -1.407606, -0.407606]] * 2,
                               rtol=1e-6)


def test_softmax_axis_tuples_normalise():
    x = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    for axis in combinations(range(3), 2):
        np.testing.assert_allclose(np.asarray(A.softmax(pynn.tensor(x), axis=axis)).sum(axis=axis), 1.0)
        np.testing.assert_allclose(np.exp(np.asarray(A.log_softmax(pynn.tensor(x), axis=axis))).sum(axis=axis), 1.0)


def test_sparsemax_keras_cases():
    x1 = np.linspace(1, 12, num=12)
    e = np.zeros_like(x1)
    e[-1] = 1
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x1))), e)
    x2 = x1.reshape(-1, 2)
    e = np.zeros_like(x2)
    e[:, -1] = 1
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x2))), e)
    e = np.zeros_like(x2)
    e[-1, :] = 1
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x2), axis=-2)), e)
    x3 = x1.reshape(-1, 1, 3)
    e = np.zeros_like(x3)
    e[:, :, -1] = 1
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x3))), e)
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x3), axis=-2)), np.ones_like(x3))
    e = np.zeros_like(x3)
    e[-1, :, :] = 1
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x3), axis=-3)), e)
    x4 = x1.reshape(-1, 1, 1, 2)
    np.testing.assert_allclose(np.asarray(A.sparsemax(pynn.tensor(x4), axis=-3)), np.ones_like(x4))


def test_linear_passes_through():
    x = np.random.default_rng(0).integers(-10, 10, (10, 5)).astype(np.int32)
    np.testing.assert_array_equal(np.asarray(A.linear(pynn.tensor(x))), x)


def test_get_method():
    assert A.get("relu") is A.relu
    assert A.get(None) is A.linear
    with pytest.raises(ValueError):
        A.get("typo")
