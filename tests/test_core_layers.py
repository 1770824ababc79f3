"""Layers, activations, initializers and pynn.random against NumPy versions of Keras' formulas."""

import math

import numpy as np
import pytest

import pynn
from pynn import activations, initializers, layers
from pynn.utils import gradcheck

from oracle import assert_like_numpy


def _np_act(name, z):
    return {
        "linear": lambda: z,
        "relu": lambda: np.maximum(z, 0),
        "sigmoid": lambda: 1 / (1 + np.exp(-z)),
        "tanh": lambda: np.tanh(z),
        "softmax": lambda: np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(
            -1, keepdims=True),
        "log_softmax": lambda: z - z.max(-1, keepdims=True) - np.log(
            np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)),
        "elu": lambda: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "selu": lambda: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0))),
        "softplus": lambda: np.logaddexp(z, 0),
        "softsign": lambda: z / (1 + np.abs(z)),
        "silu": lambda: z / (1 + np.exp(-z)),
        "swish": lambda: z / (1 + np.exp(-z)),
        "leaky_relu": lambda: np.where(z > 0, z, 0.2 * z),
        "relu6": lambda: np.clip(z, 0, 6),
        "exponential": lambda: np.exp(z),
    }[name]()


ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "softplus", "softsign",
               "silu", "swish", "leaky_relu", "relu6", "exponential"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_numpy(name):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (7, 5))
    fn = activations.get(name)
    assert_like_numpy(fn(pynn.tensor(z)), _np_act(name, z))
    assert_like_numpy(fn(pynn.tensor(z.astype(np.float32))), _np_act(name, z).astype(np.float32))


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n not in ("relu", "leaky_relu", "relu6", "linear")])
def test_activation_gradient(name):
    z = np.random.default_rng(2).normal(0, 2, (4, 3))
    assert gradcheck(activations.get(name), [z])


def test_softplus_does_not_overflow():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    assert_like_numpy(activations.softplus(pynn.tensor(z)), np.logaddexp(z, 0))


def test_activation_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    fn = lambda x: x  # noqa: E731
    assert activations.get(fn) is fn
    assert activations.serialize(activations.get("tanh")) == "tanh"
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        activations.get("nope")
    with pytest.raises(ValueError, match="cannot serialize"):
        activations.serialize(fn)


# ---------------------------------------------------------------- Dense

def _dense(units, activation, in_dim, dtype="float64", seed=3):
    layer = layers.Dense(units, activation=activation, dtype=dtype,
                         kernel_initializer=initializers.RandomNormal(stddev=0.5, seed=seed),
                         bias_initializer=initializers.RandomUniform(-1, 1, seed=seed + 1))
    layer.build((None, in_dim))
    return layer


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu", "softplus"])
@pytest.mark.parametrize("lead", [(6,), (2, 3), (1,), (0,)])
def test_dense_forward(activation, lead):
    layer = _dense(4, activation, 5)
    x = np.random.default_rng(4).normal(size=lead + (5,))
    kernel, bias = layer.get_weights()
    expected = _np_act(activation or "linear", x @ kernel + bias)
    assert_like_numpy(layer(x), expected)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "selu"])
def test_dense_gradients(activation):
    """d sum(r * dense(x)) / d(x, kernel, bias) against central differences."""
    layer = _dense(3, activation, 4)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 4))
    r = pynn.tensor(rng.normal(size=(5, 3)))
    kernel, bias = layer.get_weights()

    def f(x, k, b):
        return pynn.multiply(activations.get(activation)(pynn.dense(x, k, b)), r)

    assert gradcheck(f, [x, kernel, bias])
    # the layer's own gradients (fused kernel, weights as Variables) agree with the composition
    xt = pynn.tensor(x)
    with pynn.GradientTape() as tape:
        tape.watch(xt)
        y = pynn.sum(pynn.multiply(layer(xt), r))
    got = tape.gradient(y, [xt, layer.kernel, layer.bias])
    with pynn.GradientTape() as tape:
        xs = [pynn.tensor(v) for v in (x, kernel, bias)]
        tape.watch(xs)
        y = pynn.sum(f(*xs))
    want = tape.gradient(y, xs)
    for g, w in zip(got, want):
        assert_like_numpy(g, np.asarray(w))


def test_dense_dtype_and_uint8_input():
    layer = layers.Dense(2, kernel_initializer="ones")
    y = layer(np.full((3, 4), 2, dtype=np.uint8))
    assert y.dtype == pynn.float32
    assert_like_numpy(y, np.full((3, 2), 8, dtype=np.float32))
    assert layer.kernel.dtype == pynn.float32 and layer.kernel.shape == (4, 2)


def test_dense_errors():
    with pytest.raises(ValueError, match="units must be a positive int"):
        layers.Dense(0)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Dense"):
        layers.Dense(3, activaton="relu")
    layer = layers.Dense(3)
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"input shape \(2, 5\) does not match the kernel of shape \(4, 3\)"):
        layer(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="unknown initializer"):
        layers.Dense(3, kernel_initializer="glorot")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        layers.Dense(3, dtype="int32")


def test_dense_weights_and_counts():
    layer = layers.Dense(7, use_bias=False)
    assert layer.weights == [] and not layer.built
    layer(np.zeros((1, 3), np.float32))
    assert layer.built and layer.count_params() == 21 and len(layer.trainable_weights) == 1
    assert layer.kernel.path == f"{layer.name}/kernel"
    w = [np.arange(21, dtype=np.float32).reshape(3, 7)]
    layer.set_weights(w)
    assert_like_numpy(layer.kernel, w[0])
    with pytest.raises(ValueError, match="expected 1 arrays"):
        layer.set_weights([])
    with pytest.raises(ValueError, match=r"has shape \(3, 7\), got an array of shape \(7, 3\)"):
        layer.set_weights([w[0].T])
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1


def test_layer_names_are_unique():
    a, b = layers.Dense(1), layers.Dense(1)
    assert a.name != b.name and a.name.startswith("dense") and b.name.startswith("dense")
    assert layers.Dense(1, name="mine").name == "mine"


# ---------------------------------------------------------------- simple layers

def test_activation_relu_softmax_layers():
    x = np.random.default_rng(6).normal(0, 3, (4, 6)).astype(np.float32)  # layers compute in float32
    assert_like_numpy(layers.Activation("tanh")(pynn.tensor(x)), np.tanh(x))
    assert_like_numpy(layers.ReLU()(pynn.tensor(x)), np.maximum(x, 0))
    expected = np.minimum(np.where(x >= 1.0, x, 0.1 * (x - 1.0)), 4.0)
    assert_like_numpy(layers.ReLU(max_value=4.0, negative_slope=0.1, threshold=1.0)(pynn.tensor(x)), expected)
    assert_like_numpy(layers.Softmax(axis=0)(pynn.tensor(x)), np.exp(x) / np.exp(x).sum(0, keepdims=True))
    with pytest.raises(ValueError, match="max_value must be >= 0"):
        layers.ReLU(max_value=-1)


def test_flatten_and_reshape():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    assert_like_numpy(layers.Flatten()(x), x.reshape(2, 12))
    assert_like_numpy(layers.Reshape((4, 3))(x), x.reshape(2, 4, 3))
    assert_like_numpy(layers.Reshape((-1, 2))(x), x.reshape(2, 6, 2))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    assert_like_numpy(layers.Flatten()(np.zeros((0, 3, 4), np.float32)), np.zeros((0, 12), np.float32))
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(3, 4\) \(12 values\) to \(5,\)"):
        layers.Reshape((5,))(x)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


def test_dropout_training_and_inference():
    x = np.ones((200, 50), np.float32)
    d = layers.Dropout(0.3)
    assert_like_numpy(d(x), x)  # inference: identity
    assert_like_numpy(d(x, training=False), x)
    y = np.asarray(d(x, training=True))
    kept = y != 0
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs(1 - kept.mean() - 0.3) < 0.02  # 10000 draws
    shared = np.asarray(layers.Dropout(0.5, noise_shape=(None, 1))(x, training=True))
    assert all(len(np.unique(row)) == 1 for row in shared)  # one decision per row
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        layers.Dropout(1.0)


def test_dropout_gradient_is_the_mask():
    x = pynn.tensor(np.random.default_rng(7).normal(size=(30, 8)))
    d = layers.Dropout(0.5, dtype="float64")
    with pynn.GradientTape() as tape:
        tape.watch(x)
        y = d(x, training=True)
        total = pynn.sum(y)
    mask = np.asarray(y) / np.asarray(x)
    assert set(np.unique(mask)) == {0.0, 2.0}
    assert_like_numpy(tape.gradient(total, x), mask)


def test_dropout_reproducible_with_seed():
    x = np.ones((10, 10), np.float32)
    pynn.random.seed(11)
    a = np.asarray(layers.Dropout(0.5)(x, training=True))
    pynn.random.seed(11)
    b = np.asarray(layers.Dropout(0.5)(x, training=True))
    c = np.asarray(layers.Dropout(0.5)(x, training=True))
    assert np.array_equal(a, b) and not np.array_equal(b, c)


# ---------------------------------------------------------------- BatchNormalization

def _bn_numpy(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def test_batch_normalization_training_and_moving_statistics():
    rng = np.random.default_rng(8)
    x = rng.normal(3, 2, (16, 5))
    bn = layers.BatchNormalization(dtype="float64", gamma_initializer=initializers.RandomUniform(0.5, 2, seed=1),
                                   beta_initializer=initializers.RandomNormal(seed=2))
    bn.build((None, 5))
    gamma, beta, mm, mv = bn.get_weights()
    y = bn(x, training=True)
    mean, var = x.mean(0), x.var(0)
    assert_like_numpy(y, _bn_numpy(x, gamma, beta, mean, var, 1e-3))
    assert_like_numpy(bn.moving_mean, 0.99 * mm + 0.01 * mean)
    assert_like_numpy(bn.moving_variance, 0.99 * mv + 0.01 * var)
    # inference uses the moving statistics
    assert_like_numpy(bn(x), _bn_numpy(x, gamma, beta, np.asarray(bn.moving_mean), np.asarray(bn.moving_variance),
                                       1e-3))
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2


def test_batch_normalization_other_axis_and_frozen():
    x = np.random.default_rng(9).normal(size=(4, 3, 6))
    bn = layers.BatchNormalization(axis=1, momentum=0.5, dtype="float64")
    y = bn(x, training=True)
    mean, var = x.mean((0, 2), keepdims=True), x.var((0, 2), keepdims=True)
    assert_like_numpy(y, (x - mean) / np.sqrt(var + 1e-3))
    assert_like_numpy(bn.moving_mean, 0.5 * mean.reshape(-1))
    bn.trainable = False  # a frozen layer runs in inference mode, as in Keras
    before = bn.get_weights()
    bn(x, training=True)
    for a, b in zip(before, bn.get_weights()):
        assert np.array_equal(a, b)


def test_batch_normalization_gradient():
    bn = layers.BatchNormalization(dtype="float64", gamma_initializer=initializers.RandomUniform(0.5, 2, seed=3))
    bn.build((None, 3))
    r = pynn.tensor(np.random.default_rng(10).normal(size=(6, 3)))
    x = np.random.default_rng(11).normal(size=(6, 3))
    assert gradcheck(lambda t: pynn.multiply(bn(t, training=True), r), [x])


def test_batch_normalization_errors():
    with pytest.raises(ValueError, match="momentum must be in"):
        layers.BatchNormalization(momentum=2)
    bn = layers.BatchNormalization(axis=3)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        bn(np.zeros((2, 3), np.float32))


# ---------------------------------------------------------------- config round trip

@pytest.mark.parametrize("layer", [
    layers.Dense(3, activation="relu", use_bias=False, kernel_initializer="he_normal"),
    layers.Activation("softmax"), layers.ReLU(max_value=6.0), layers.Softmax(axis=1), layers.Flatten(),
    layers.Reshape((2, -1)), layers.Dropout(0.25, seed=4), layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
], ids=lambda l: type(l).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    import json

    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config


# ---------------------------------------------------------------- initializers and random

@pytest.mark.parametrize("name, std", [
    ("glorot_uniform", math.sqrt(2 / (300 + 200))), ("glorot_normal", math.sqrt(2 / (300 + 200))),
    ("he_normal", math.sqrt(2 / 300)), ("he_uniform", math.sqrt(2 / 300)),
    ("lecun_normal", math.sqrt(1 / 300)), ("lecun_uniform", math.sqrt(1 / 300)),
    ("random_normal", 0.05), ("random_uniform", 0.1 / math.sqrt(12)),
])
def test_initializer_statistics(name, std):
    w = np.asarray(initializers.get(name)((300, 200)))
    assert w.shape == (300, 200) and w.dtype == np.float32
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)  # mean 0, within 5 standard errors
    assert abs(w.std() / std - 1) < 0.03
    if "uniform" in name and name != "random_uniform":
        assert np.abs(w).max() <= math.sqrt(3) * std * (1 + 1e-6)
    if name.endswith("_normal") and name != "random_normal":  # truncated at 2 stddev of the untruncated law
        assert np.abs(w).max() <= 2 * std / 0.8796256610342398 * (1 + 1e-6)


def test_initializers_constant_and_fans():
    assert_like_numpy(initializers.get("zeros")((2, 3)), np.zeros((2, 3), np.float32))
    assert_like_numpy(initializers.Ones()((4,), "float64"), np.ones(4))
    assert_like_numpy(initializers.Constant(2.5)((2,)), np.full(2, 2.5, np.float32))
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((7,)) == (7, 7)


def test_seeded_initializers_repeat_and_global_seed_reproduces():
    a = np.asarray(initializers.GlorotUniform(seed=5)((4, 4)))
    b = np.asarray(initializers.GlorotUniform(seed=5)((4, 4)))
    assert np.array_equal(a, b)
    pynn.random.seed(0)
    c = np.asarray(initializers.get("he_normal")((4, 4)))
    d = np.asarray(initializers.get("he_normal")((4, 4)))
    pynn.utils.set_random_seed(0)
    e = np.asarray(initializers.get("he_normal")((4, 4)))
    assert np.array_equal(c, e) and not np.array_equal(c, d)


def test_initializer_serialization_and_errors():
    init = initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=3)
    again = initializers.get(initializers.serialize(init))
    assert type(again) is initializers.VarianceScaling and again.get_config() == init.get_config()
    assert np.array_equal(np.asarray(init((3, 3))), np.asarray(again((3, 3))))
    with pytest.raises(ValueError, match="mode must be one of"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="maxval"):
        initializers.RandomUniform(1, 0)


def test_random_functions():
    pynn.random.seed(3)
    u = np.asarray(pynn.random.uniform((1000,), 2, 3))
    assert u.dtype == np.float32 and u.min() >= 2 and u.max() < 3
    n = np.asarray(pynn.random.normal((2, 3), dtype="float64"))
    assert n.dtype == np.float64 and n.shape == (2, 3)
    t = np.asarray(pynn.random.truncated_normal((10000,), 1.0, 2.0))
    assert np.abs(t - 1).max() <= 4 + 1e-5
    with pytest.raises(ValueError, match="non-negative integer"):
        pynn.random.seed(-1)
    with pytest.raises(TypeError, match="floating point"):
        pynn.random.normal((2,), dtype="int32")
