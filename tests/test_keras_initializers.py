"""Initializers: Keras 3's contracts (keras/src/initializers/*_test.py) and statistics of
large samples."""

import math

import numpy as np
import pytest

import pynn
from pynn import initializers as I


def _np(t):
    return np.asarray(t)


def _roundtrip(init):
    config = init.get_config()
    clone = type(init).from_config(config)
    assert clone.get_config() == config
    again = I.get(I.serialize(init))
    assert type(again) is type(init) and again.get_config() == config
    return clone


def test_random_normal_stats_and_seeds():
    init = I.RandomNormal(mean=0.0, stddev=1.0, seed=1234)
    values = init((25, 20))
    assert values.shape == (25, 20) and values.dtype == pynn.float32
    assert abs(np.std(_np(values)) - 1.0) < 0.1
    assert (init.mean, init.stddev, init.seed) == (0.0, 1.0, 1234)
    # a seeded initializer gives the same values on every call and after cloning
    np.testing.assert_array_equal(_np(init((25, 20))), _np(values))
    np.testing.assert_array_equal(_np(_roundtrip(init)((25, 20))), _np(values))


def test_unseeded_initializer_repeats_itself_but_not_its_clone():
    # Keras 3: "an initializer seeded with an integer or None (unseeded) will produce the
    # same random values across multiple calls"; a clone of an unseeded one draws anew.
    init = I.RandomNormal(stddev=1.0)
    a = _np(init((30, 30)))
    np.testing.assert_array_equal(_np(init((30, 30))), a)
    assert init.get_config()["seed"] is None
    assert not np.allclose(_np(I.RandomNormal.from_config(init.get_config())((30, 30))), a)


def test_global_seed_fixes_unseeded_initializers():
    pynn.random.seed(7)
    a = _np(I.GlorotUniform()((40, 30)))
    pynn.random.seed(7)
    np.testing.assert_array_equal(_np(I.GlorotUniform()((40, 30))), a)


def test_random_uniform_bounds():
    init = I.RandomUniform(minval=-1.0, maxval=1.0, seed=1234)
    values = _np(init((5, 5)))
    assert values.min() >= -1.0 and values.max() < 1.0
    _roundtrip(init)
    big = _np(I.RandomUniform(-2.0, 4.0, seed=3)((200, 500)))
    assert abs(big.mean() - 1.0) < 0.02 and abs(big.std() - 6 / math.sqrt(12)) < 0.02


def test_truncated_normal_within_two_stddev():
    values = _np(I.TruncatedNormal(mean=1.0, stddev=0.5, seed=2)((300, 300)))
    assert values.min() >= 0.0 and values.max() <= 2.0
    assert abs(values.mean() - 1.0) < 0.01
    assert abs(values.std() - 0.5 * 0.8796256610342398) < 0.01


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("shape", [(400, 300), (3, 5, 40, 60), (7, 20, 30)])
def test_variance_scaling_std(mode, distribution, shape):
    scale = 2.0
    init = I.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=11)
    values = _np(init(shape, dtype="float64"))
    assert values.shape == shape and values.dtype == np.float64
    receptive = math.prod(shape[:-2])
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    expected = math.sqrt(scale / n)
    assert abs(values.std() / expected - 1) < 0.03, (values.std(), expected)
    assert abs(values.mean()) < 0.03 * expected
    if distribution == "uniform":
        limit = math.sqrt(3 * scale / n)
        assert values.min() >= -limit and values.max() <= limit
    elif distribution == "truncated_normal":
        assert np.abs(values).max() <= 2 * expected / 0.8796256610342398 * (1 + 1e-12)
    _roundtrip(init)


def test_variance_scaling_keras_numbers():
    # keras: std of VarianceScaling(scale=2, fan_in / fan_out) on (25, 20), atol 0.1
    v = _np(I.VarianceScaling(scale=2.0, seed=1234, mode="fan_in")((25, 20)))
    assert abs(v.std() - np.sqrt(2 / 25)) < 0.1
    v = _np(I.VarianceScaling(scale=2.0, seed=1234, mode="fan_out")((25, 20)))
    assert abs(v.std() - np.sqrt(2 / 20)) < 0.1
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_variance_scaling_errors():
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="invalid_mode")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="invalid_dist")


def test_compute_fans():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans((3, 4)) == (3, 4)
    assert I.compute_fans((3, 3, 16, 32)) == (9 * 16, 9 * 32)
    assert I.compute_fans((512, 8, 64), input_axes=[0], output_axes=[1, 2]) == (512, 512)
    assert I.compute_fans((512, 8, 64), input_axes=[0, 1], output_axes=[2]) == (512 * 8, 64)


def test_variance_scaling_with_axes():
    init = I.VarianceScaling(scale=2.0, seed=1234, mode="fan_in", input_axes=[0], output_axes=[1, 2])
    v = _np(init((32, 4, 16)))
    assert abs(v.std() - np.sqrt(2 / 32)) < 0.1
    v = _np(I.VarianceScaling(scale=2.0, seed=1234, mode="fan_in")((32, 4, 16)))
    assert abs(v.std() - np.sqrt(2 / 128)) < 0.1
    _roundtrip(init)


@pytest.mark.parametrize("cls, scale, mode, uniform", [
    (I.GlorotUniform, 1, "fan_avg", True), (I.GlorotNormal, 1, "fan_avg", False),
    (I.HeUniform, 2, "fan_in", True), (I.HeNormal, 2, "fan_in", False),
    (I.LecunUniform, 1, "fan_in", True), (I.LecunNormal, 1, "fan_in", False),
])
def test_presets(cls, scale, mode, uniform):
    shape = (300, 200)
    values = _np(cls(seed=5)(shape))
    n = {"fan_in": 300, "fan_avg": 250}[mode]
    assert abs(values.std() / math.sqrt(scale / n) - 1) < 0.03
    if uniform:
        assert np.abs(values).max() <= math.sqrt(3 * scale / n)
    _roundtrip(cls(seed=5))


@pytest.mark.parametrize("shape", [(5, 5), (10, 4), (4, 10), (3, 3, 4, 8), (2, 6, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal(shape, dtype):
    gain = 2.0
    init = I.Orthogonal(gain=gain, seed=1234)
    values = init(shape, dtype=dtype)
    assert values.shape == shape and values.dtype == dtype
    q = _np(values).astype(np.float64).reshape(-1, shape[-1]) / gain
    rows, cols = q.shape
    tol = 1e-5 if dtype == "float32" else 1e-12
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=tol)    # orthonormal columns
    else:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=tol)    # orthonormal rows
    np.testing.assert_array_equal(_np(init(shape, dtype=dtype)), _np(values))
    _roundtrip(init)
    assert isinstance(I.get("OrthogonalInitializer"), I.Orthogonal)
    assert isinstance(I.get("orthogonal"), I.Orthogonal)


def test_orthogonal_needs_two_dims():
    with pytest.raises(ValueError, match="Orthogonal"):
        I.Orthogonal()((5,))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_identity(shape):
    init = I.Identity(gain=2)
    np.testing.assert_array_equal(_np(init(shape)), np.eye(*shape, dtype=np.float32) * 2)
    assert init(shape, dtype="float64").dtype == pynn.float64
    _roundtrip(init)
    assert isinstance(I.get("IdentityInitializer"), I.Identity)
    assert isinstance(I.get("identity"), I.Identity)
    with pytest.raises(ValueError, match="Identity"):
        init((2, 2, 2))


def test_constant_scalar_and_array():
    np.testing.assert_array_equal(_np(I.Constant(6.0)((3, 3))), np.full((3, 3), 6.0, np.float32))
    value = np.random.default_rng(0).random((3, 3))
    init = I.Constant(value=value)
    out = init((3, 3), dtype="float64")
    np.testing.assert_array_equal(_np(out), value)
    clone = _roundtrip(init)
    np.testing.assert_array_equal(_np(clone((3, 3), dtype="float64")), value)
    # an array value broadcasts to the shape asked for, as Keras' value * ones(shape)
    np.testing.assert_array_equal(_np(I.Constant([1.0, 2.0, 3.0])((2, 3))), [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(ValueError, match="Constant"):
        init((4, 4))
    _roundtrip(I.Constant(2.5))
    for cls, fill in ((I.Zeros, 0.0), (I.Ones, 1.0)):
        np.testing.assert_array_equal(_np(cls()((3, 3))), np.full((3, 3), fill, np.float32))
        _roundtrip(cls())


def test_get():
    assert I.get(None) is None
    assert isinstance(I.get("glorot_normal"), I.GlorotNormal)
    assert isinstance(I.get("GlorotNormal"), I.GlorotNormal)
    assert isinstance(I.get("normal"), I.RandomNormal) and isinstance(I.get("uniform"), I.RandomUniform)
    assert isinstance(I.get("one"), I.Ones) and isinstance(I.get("zero"), I.Zeros)
    assert isinstance(I.get(I.HeNormal), I.HeNormal)
    with pytest.raises(ValueError):
        I.get("typo")


def test_get_with_array():
    arr = np.random.default_rng(1).random((5, 5)).astype("float32")
    init = I.get(arr)
    np.testing.assert_array_equal(_np(init((5, 5))), arr)
    np.testing.assert_array_equal(_np(I.get(pynn.tensor(arr))((5, 5))), arr)
    with pytest.raises(ValueError, match="Expected `shape` to be"):
        init((10, 10))


def test_dense_with_orthogonal_and_constant_initializers():
    layer = pynn.layers.Dense(4, kernel_initializer=I.Orthogonal(seed=1), bias_initializer=I.Constant([1, 2, 3, 4]))
    layer.build((None, 6))
    k = _np(layer.kernel).astype(np.float64)
    np.testing.assert_allclose(k.T @ k, np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(_np(layer.bias), [1, 2, 3, 4])
    config = layer.get_config()
    clone = pynn.layers.Dense.from_config(config)
    assert isinstance(clone.kernel_initializer, I.Orthogonal)
    assert clone.kernel_initializer.get_config() == layer.kernel_initializer.get_config()


def test_none_initializer_in_a_layer():
    # get(None) is None (Keras); add_weight then falls back to Keras' default, glorot_uniform
    layer = pynn.layers.Dense(3, kernel_initializer=None)
    layer.build((None, 4))
    assert layer.kernel.shape == (4, 3) and np.any(_np(layer.kernel) != 0)
    assert I.serialize(None) is None
    clone = pynn.layers.Dense.from_config(layer.get_config())
    assert clone.kernel_initializer is None
