"""Regularizers, constraints, layer.losses / add_loss / activity regularization and their place in training
(Note [Layer losses] in pynn/layers/base.py): Keras 3's stated numbers (regularizers_test.py,
constraints_test.py, the Regularizer docstring), NumPy float64 formulas written here, gradients by central
differences, hand-computed SGD steps, captured steps against eager ones, and the save / load round trip."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pynn
from pynn import constraints, layers, optimizers, regularizers
from pynn.models import load_model
from pynn.utils import gradcheck

from oracle import assert_same_state, captured_and_eager

EPS = 1e-7  # Keras' backend.epsilon()


# ---------------------------------------------------------------- NumPy oracles

def ref_l1l2(x, l1=0.0, l2=0.0):
    x = np.asarray(x, np.float64)
    return l1 * np.abs(x).sum() + l2 * np.square(x).sum()


def ref_orthogonal(x, factor, mode):
    x = np.asarray(x, np.float64)
    if mode == "columns":
        x = x.T
    rows = x / np.sqrt(np.maximum(np.square(x).sum(axis=1, keepdims=True), EPS * EPS))
    n = rows.shape[0]
    product = rows @ rows.T
    total = sum(abs(product[i, j]) for i in range(n) for j in range(n) if i != j)
    return factor * 0.5 * total / (n * (n - 1) / 2)


def ref_norms(w, axis):
    return np.sqrt(np.square(w).sum(axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


def ref_max_norm(w, max_value, axis):
    n = ref_norms(w, axis)
    return w * (np.clip(n, 0, max_value) / (EPS + n))


def ref_min_max_norm(w, lo, hi, rate, axis):
    n = ref_norms(w, axis)
    return w * ((rate * np.clip(n, lo, hi) + (1 - rate) * n) / (EPS + n))


def ref_unit_norm(w, axis):
    return w / (EPS + ref_norms(w, axis))


def value(t):
    return np.asarray(t, np.float64)


shapes = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)
floats = st.sampled_from(["float32", "float64"])


# ---------------------------------------------------------------- regularizers: Keras' numbers

def test_keras_docstring_numbers():
    assert float(regularizers.L2(2.0)(pynn.ones((5, 5)))) == 50.0
    layer = layers.Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=regularizers.L1(0.01),
                         activity_regularizer=regularizers.L2(0.01))
    layer(pynn.ones((5, 5)) * 2.0)
    # the kernel term 0.25, the activity term 5.0 (divided by the batch of 5)
    assert sorted(float(v) for v in layer.losses) == pytest.approx([0.25, 5.0], rel=1e-6)

    def l1_reg(weight_matrix):
        return 0.01 * pynn.sum(pynn.abs(weight_matrix))

    layer = layers.Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=l1_reg)
    layer(pynn.ones((5, 5)))
    assert [float(v) for v in layer.losses] == pytest.approx([0.25])

    class L2Regularizer(regularizers.Regularizer):
        def __init__(self, l2=0.0):
            self.l2 = l2

        def __call__(self, x):
            return self.l2 * pynn.sum(pynn.square(x))

        def get_config(self):
            return {"l2": float(self.l2)}

    layer = layers.Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=L2Regularizer(l2=0.5))
    layer(pynn.ones((5, 5)))
    assert [float(v) for v in layer.losses] == [12.5]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_regularizer_values(dtype):
    rng = np.random.default_rng(1)
    v = rng.random((4, 4)).astype(dtype)
    x = pynn.Variable(v)
    for reg, expected in [(regularizers.L1(0.1), ref_l1l2(v, l1=0.1)), (regularizers.L2(0.1), ref_l1l2(v, l2=0.1)),
                          (regularizers.L1L2(l1=0.1, l2=0.2), ref_l1l2(v, 0.1, 0.2)),
                          (regularizers.OrthogonalRegularizer(factor=0.1, mode="rows"),
                           ref_orthogonal(v, 0.1, "rows"))]:
        y = reg(x)
        assert y.shape == () and y.dtype == dtype
        np.testing.assert_allclose(value(y), expected, rtol=1e-5 if dtype == "float32" else 1e-12)
    zeros = pynn.zeros((4, 4), dtype)
    for reg in [regularizers.L1(0.1), regularizers.L2(0.1), regularizers.L1L2(0.1, 0.2), regularizers.L1(0.0),
                regularizers.L2(0.0), regularizers.L1L2(0.0, 0.0)]:
        assert float(reg(zeros)) == 0.0
    for reg in [regularizers.L1(0.0), regularizers.L2(0.0), regularizers.L1L2()]:
        assert float(reg(x)) == 0.0
    ones = pynn.ones((4, 4), dtype)
    assert float(regularizers.L1(0.1)(ones)) == float(regularizers.L1(0.1)(-ones)) == pytest.approx(1.6)
    big, small = pynn.full((4, 4), 10.0, dtype), pynn.full((4, 4), 0.1, dtype)
    assert float(regularizers.L2(1.0)(big)) > float(regularizers.L1(1.0)(big))
    assert float(regularizers.L2(1.0)(small)) < float(regularizers.L1(1.0)(small))
    assert float(regularizers.L1L2(l1=0.1)(x)) == float(regularizers.L1(0.1)(x))
    assert float(regularizers.L1L2(l2=0.1)(x)) == float(regularizers.L2(0.1)(x))


@given(shape=shapes, dtype=floats, seed=st.integers(0, 2**16), l1=st.floats(0, 3), l2=st.floats(0, 3))
def test_l1_l2_match_numpy_on_any_shape(shape, dtype, seed, l1, l2):
    v = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    tol = 2e-5 if dtype == "float32" else 1e-12
    for reg, expected in [(regularizers.L1(l1), ref_l1l2(v, l1=l1)), (regularizers.L2(l2), ref_l1l2(v, l2=l2)),
                          (regularizers.L1L2(l1, l2), ref_l1l2(v, l1, l2))]:
        y = reg(pynn.tensor(v))
        assert y.shape == () and y.dtype == dtype
        np.testing.assert_allclose(value(y), expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(value(regularizers.L2(l2)(v)), ref_l1l2(v, l2=l2), rtol=tol, atol=tol)  # NumPy input


@given(counted=st.integers(2, 6), other=st.integers(1, 6), dtype=floats, mode=st.sampled_from(["rows", "columns"]),
       seed=st.integers(0, 2**16))
def test_orthogonal_matches_numpy(counted, other, dtype, mode, seed):
    shape = (counted, other) if mode == "rows" else (other, counted)  # at least 2 rows (columns) to compare
    v = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    v[0] = 0.0  # a zero row stays zero (the epsilon clamp), never NaN
    y = regularizers.OrthogonalRegularizer(0.3, mode)(pynn.tensor(v))
    assert y.dtype == dtype
    np.testing.assert_allclose(value(y), ref_orthogonal(v, 0.3, mode), rtol=1e-5 if dtype == "float32" else 1e-12)


def test_orthogonal_of_orthogonal_rows_is_zero_and_one_row_is_nan_as_in_keras():
    q = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))[0]
    assert abs(float(regularizers.OrthogonalRegularizer(1.0)(pynn.tensor(q)))) < 1e-12
    assert float(regularizers.OrthogonalRegularizer(1.0, "columns")(pynn.tensor(q))) < 1e-12
    with np.errstate(all="ignore"):  # 0 / 0 pairs, Keras' result
        assert math.isnan(float(regularizers.OrthogonalRegularizer(1.0)(pynn.ones((1, 3)))))


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.7), regularizers.L1L2(0.2, 0.4),
                                 regularizers.OrthogonalRegularizer(0.5),
                                 regularizers.OrthogonalRegularizer(0.5, "columns")],
                         ids=["l1", "l2", "l1l2", "orth-rows", "orth-columns"])
def test_regularizer_gradients(reg):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3))
    x[np.abs(x) < 0.1] = 0.5  # away from |x|'s kink
    assert gradcheck(reg, [x])


# ---------------------------------------------------------------- regularizers: get, configs, errors

def test_regularizer_get_and_serialization():
    assert isinstance(regularizers.get("l1l2"), regularizers.L1L2)
    assert isinstance(regularizers.get("l1"), regularizers.L1) and regularizers.get("l1").l1 == 0.01
    assert isinstance(regularizers.get("l2"), regularizers.L2) and regularizers.get("l2").l2 == 0.01
    assert isinstance(regularizers.get("orthogonal_regularizer"), regularizers.OrthogonalRegularizer)
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    both = regularizers.get("l1_l2")  # Keras' documented defaults for the string
    assert isinstance(both, regularizers.L1L2) and (both.l1, both.l2) == (0.01, 0.01)
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    def fn(w):
        return pynn.sum(w)

    assert regularizers.get(fn) is fn
    assert (regularizers.l1, regularizers.l2, regularizers.l1_l2, regularizers.orthogonal_regularizer) == (
        regularizers.L1, regularizers.L2, regularizers.L1L2, regularizers.OrthogonalRegularizer)
    for reg in [regularizers.L1(0.1), regularizers.L2(0.1), regularizers.L1L2(l1=0.1, l2=0.2),
                regularizers.OrthogonalRegularizer(factor=0.1, mode="columns")]:
        config = regularizers.serialize(reg)
        again = regularizers.get(config)
        assert type(again) is type(reg) and again.get_config() == reg.get_config()
        assert regularizers.deserialize(config).get_config() == reg.get_config()
        assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()
    assert regularizers.L1L2(l1=0.01, l2=0.02).get_config() == {"l1": 0.01, "l2": 0.02}
    assert regularizers.OrthogonalRegularizer(factor=0.01, mode="columns").get_config() == {
        "factor": 0.01, "mode": "columns"}
    assert regularizers.serialize(None) is None


def test_regularizer_errors():
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: typo"):
        regularizers.get("typo")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        regularizers.get(3)
    with pytest.raises(ValueError, match="unknown regularizer class 'Nope'"):
        regularizers.get({"class_name": "Nope", "config": {}})
    for bad in [-1, -0.001, float("nan"), float("inf"), -float("inf"), "not_a_number", [0.1], True]:
        with pytest.raises(ValueError, match="expected a non-negative float"):
            regularizers.L1(bad)
        with pytest.raises(ValueError, match="expected a non-negative float"):
            regularizers.L1L2(l2=bad)
        with pytest.raises(ValueError, match="expected a non-negative float"):
            regularizers.OrthogonalRegularizer(bad)
    assert regularizers.L1(None).l1 == 0.01 and regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.validate_float_arg(1, "test") == 1.0
    assert isinstance(regularizers.validate_float_arg(1, "test"), float)
    with pytest.raises(ValueError) as e:
        regularizers.OrthogonalRegularizer(factor=0.01, mode="invalid_mode")
    assert str(e.value) == ('Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                            'Received: mode=invalid_mode')
    with pytest.raises(ValueError) as e:
        regularizers.OrthogonalRegularizer(factor=0.1)(pynn.zeros((4, 4, 4)))
    assert str(e.value) == "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=(4, 4, 4)"
    with pytest.raises(NotImplementedError, match="get_config"):
        regularizers.Regularizer().get_config()
    with pytest.raises(ValueError, match="cannot serialize"):
        regularizers.serialize(lambda w: w)
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        layers.Dense(2, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="expected a non-negative float"):
        layers.Conv2D(2, 3, kernel_regularizer={"class_name": "L2", "config": {"l2": -1}})


# ---------------------------------------------------------------- constraints: Keras' numbers

def example_array():
    rng = np.random.default_rng(3537)
    a = rng.random((100, 100)) * 100.0 - 50.0
    a[0, 0] = 0.0
    return a


def test_keras_constraint_values():
    x = np.array([[0, 0, 0], [1.0, 0, 0], [3, 0, 0], [3, 3, 3]]).T
    target = np.array([[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0], [2.0 / np.sqrt(3)] * 3]).T
    np.testing.assert_allclose(value(constraints.MaxNorm(2.0)(x)), target, rtol=1e-6, atol=1e-7)
    out = value(constraints.NonNeg()(example_array()))
    assert (out.min(axis=1) >= 0).all()
    np.testing.assert_array_equal(value(constraints.NonNeg()(np.full((5, 5), -3.0))), np.zeros((5, 5)))
    np.testing.assert_array_equal(value(constraints.NonNeg()(np.full((5, 5), 3.0))), np.full((5, 5), 3.0))
    out = value(constraints.UnitNorm()(example_array()))
    np.testing.assert_allclose(np.sqrt(np.square(out).sum(axis=0)), 1.0, rtol=1e-6)
    out = value(constraints.MinMaxNorm(min_value=0.2, max_value=0.5)(example_array()))
    l2 = np.sqrt(np.square(out).sum(axis=0))
    assert np.all(l2 >= 0.2) and np.all(l2 <= 0.5 + 1e-6)
    np.testing.assert_array_equal(value(constraints.Constraint()(pynn.tensor([1.0, 2.0, 3.0]))), [1.0, 2.0, 3.0])


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), dtype=floats, seed=st.integers(0, 2**16),
       data=st.data())
def test_constraints_match_numpy(shape, dtype, seed, data):
    ndim = len(shape)
    axis = data.draw(st.one_of(st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))
    w = (np.random.default_rng(seed).normal(size=shape) * 3).astype(dtype)
    tol = dict(rtol=3e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    cases = [(constraints.MaxNorm(1.5, axis), ref_max_norm(w, 1.5, axis)),
             (constraints.UnitNorm(axis), ref_unit_norm(w, axis)),
             (constraints.MinMaxNorm(0.5, 2.0, 0.7, axis), ref_min_max_norm(w, 0.5, 2.0, 0.7, axis)),
             (constraints.NonNeg(), np.maximum(w, 0))]
    for c, expected in cases:
        out = c(pynn.tensor(w))
        assert out.dtype == dtype and out.shape == shape
        np.testing.assert_allclose(value(out), expected, **tol)


@pytest.mark.parametrize("c", [constraints.MaxNorm(1.0), constraints.UnitNorm(1), constraints.MinMaxNorm(0.5, 1.0, 0.5),
                               constraints.MaxNorm(0.5, axis=[0, 1])], ids=["max", "unit", "minmax", "max-axes"])
def test_constraint_gradients(c):
    assert gradcheck(c, [np.random.default_rng(5).normal(size=(3, 4))])


def test_constraint_get_configs_and_errors():
    assert constraints.MaxNorm(max_value=3.0, axis=1).get_config() == {"max_value": 3.0, "axis": 1}
    assert constraints.UnitNorm(axis=1).get_config() == {"axis": 1}
    assert constraints.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.7, axis=1).get_config() == {
        "min_value": 0.5, "max_value": 2.0, "rate": 0.7, "axis": 1}
    assert constraints.NonNeg().get_config() == {} and constraints.Constraint().get_config() == {}
    x = example_array()
    for c in [constraints.MaxNorm(3.0, 1), constraints.UnitNorm(1), constraints.MinMaxNorm(0.5, 2.0, 0.7, 1),
              constraints.NonNeg(), constraints.MaxNorm(2.0, [0, 1])]:
        again = constraints.get(constraints.serialize(c))
        assert type(again) is type(c) and again.get_config() == c.get_config()
        np.testing.assert_array_equal(value(again(x)), value(c(x)))
        assert type(c).from_config(c.get_config()).get_config() == c.get_config()
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("min_max_norm"), constraints.MinMaxNorm)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert constraints.get(None) is None and constraints.serialize(None) is None
    assert (constraints.max_norm, constraints.min_max_norm, constraints.non_neg, constraints.unit_norm) == (
        constraints.MaxNorm, constraints.MinMaxNorm, constraints.NonNeg, constraints.UnitNorm)
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: typo"):
        constraints.get("typo")
    with pytest.raises(TypeError, match="MaxNorm: max_value must be a number"):
        constraints.MaxNorm("2")
    with pytest.raises(ValueError, match="MaxNorm: max_value must be a non-negative number"):
        constraints.MaxNorm(-1)
    with pytest.raises(ValueError, match="min_value .* must not exceed max_value"):
        constraints.MinMaxNorm(2.0, 1.0)
    with pytest.raises(TypeError, match="UnitNorm: axis must be an int"):
        constraints.UnitNorm(axis=1.5)
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        layers.Dense(2, bias_constraint="positive")


# ---------------------------------------------------------------- layer.losses

def test_dense_losses_against_numpy():
    rng = np.random.default_rng(0)
    layer = layers.Dense(3, kernel_regularizer=regularizers.L2(0.1), bias_regularizer=regularizers.L1(0.2),
                         activity_regularizer=regularizers.L1L2(0.01, 0.03), bias_initializer="ones", dtype="float64")
    x = rng.normal(size=(7, 4))
    assert layer.losses == []
    y = value(layer(x))
    kernel, bias = layer.get_weights()
    expected = [ref_l1l2(y, 0.01, 0.03) / 7, ref_l1l2(kernel, l2=0.1), ref_l1l2(bias, l1=0.2)]
    np.testing.assert_allclose([float(v) for v in layer.losses], expected, rtol=1e-12)
    # the next outermost call replaces the activity term; the weight terms are computed afresh
    layer.kernel.assign(layer.kernel * 2.0)
    y2 = value(layer(x[:3]))
    expected = [ref_l1l2(y2, 0.01, 0.03) / 3, ref_l1l2(kernel * 2, l2=0.1), ref_l1l2(bias, l1=0.2)]
    np.testing.assert_allclose([float(v) for v in layer.losses], expected, rtol=1e-12)
    assert layer.kernel.regularizer is layer.kernel_regularizer and layer.bias.constraint is None
    layer(np.zeros((0, 4)))  # an empty batch: the activity term is 0 (Keras' divide_no_nan)
    assert float(layer.losses[0]) == 0.0


def test_model_losses_nested_shared_and_frozen():
    inner = pynn.Sequential([layers.Dense(3, activity_regularizer="l2", kernel_regularizer="l1")])
    shared = layers.Dense(3, activity_regularizer=regularizers.L1(0.5))
    inputs = layers.Input((3,))
    out = shared(inner(shared(inputs)))
    model = pynn.Model(inputs, out)
    assert len(model.losses) == 1 and all(l.__dict__["_losses"] == [] for l in [inner, shared, inner.layers[0]])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    model(x)
    losses = [float(v) for v in model.losses]
    assert len(losses) == 4
    with pynn.no_grad():  # (calling the layers alone replaces their own losses)
        h1 = shared(x)
        h2 = inner.layers[0](h1)
        h3 = shared(h2)
    expected = sorted([ref_l1l2(value(h1), l1=0.5) / 5, ref_l1l2(value(h3), l1=0.5) / 5,
                       ref_l1l2(value(h2), l2=0.01) / 5, ref_l1l2(inner.layers[0].get_weights()[0], l1=0.01)])
    np.testing.assert_allclose(sorted(losses), expected, rtol=1e-5)
    model(x)  # a second forward pass replaces, never accumulates
    assert len(model.losses) == 4
    inner.trainable = False  # Keras: only trainable weights are regularized
    assert len(model.losses) == 3


def test_add_loss_in_a_custom_layer_and_symbolic_build():
    class Penalized(layers.Layer):
        def call(self, inputs):
            self.add_loss(pynn.sum(inputs) * 0.5)
            self.add_loss([pynn.mean(inputs), pynn.max(inputs)])
            return inputs * 2.0

    layer = Penalized(activity_regularizer="l1")
    inputs = layers.Input((4,))
    model = pynn.Model(inputs, layers.Dense(2)(layer(inputs)))  # the shape inference call adds nothing
    assert model.losses == [] and layer.losses == []
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    model(x)
    np.testing.assert_allclose([float(v) for v in layer.losses], [x.sum() * 0.5, x.mean(), x.max(),
                                                                  0.01 * np.abs(2 * x).sum() / 2], rtol=1e-6)
    assert len(model.losses) == 4
    with pytest.raises(ValueError, match="add_loss: can only be called from inside build\\(\\) or call\\(\\)"):
        layer.add_loss(1.0)
    assert layer.get_config()["activity_regularizer"] == {"class_name": "L1", "config": {"l1": 0.01}}
    assert "activity_regularizer" not in layers.Dense(2).get_config()
    flatten = layers.Flatten(activity_regularizer=regularizers.L1(0.5))  # any layer takes one
    again = layers.Flatten.from_config(flatten.get_config())
    again(x)
    np.testing.assert_allclose([float(v) for v in again.losses], [0.5 * x.sum() / 2])


def test_conv_layers_regularizers_constraints_and_configs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
    cases = [
        (layers.Conv2D(4, 3, kernel_regularizer="l2", bias_regularizer="l1", kernel_constraint="non_neg",
                       bias_constraint=constraints.MaxNorm(1.0), activity_regularizer="l2"),
         ["kernel", "bias"], {"kernel_regularizer": "L2", "bias_regularizer": "L1", "kernel_constraint": "NonNeg",
                              "bias_constraint": "MaxNorm", "activity_regularizer": "L2"}),
        (layers.Conv2DTranspose(2, 3, kernel_regularizer="l1", kernel_constraint="unit_norm"), ["kernel"],
         {"kernel_regularizer": "L1", "kernel_constraint": "UnitNorm"}),
        (layers.DepthwiseConv2D(3, depthwise_regularizer="l2", depthwise_constraint="non_neg", bias_regularizer="l1"),
         ["kernel", "bias"], {"depthwise_regularizer": "L2", "depthwise_constraint": "NonNeg",
                              "bias_regularizer": "L1"}),
        (layers.SeparableConv2D(4, 3, depthwise_regularizer="l1", pointwise_regularizer="l2",
                                pointwise_constraint="unit_norm", depthwise_constraint="max_norm"),
         ["depthwise_kernel", "pointwise_kernel"], {"depthwise_regularizer": "L1", "pointwise_regularizer": "L2",
                                                    "pointwise_constraint": "UnitNorm",
                                                    "depthwise_constraint": "MaxNorm"}),
    ]
    for layer, regularized, serialized in cases:
        y = layer(x)
        config = layer.get_config()
        for key, name in serialized.items():
            assert config[key]["class_name"] == name, (layer, key)
        again = type(layer).from_config(config)
        assert again.get_config() == config
        expected = []
        if layer.activity_regularizer is not None:
            expected.append(ref_l1l2(value(y), l2=0.01) / 2)
        for name in regularized:
            w, reg = value(getattr(layer, name)), getattr(layer, name).regularizer
            expected.append(ref_l1l2(w, l1=reg.l1) if isinstance(reg, regularizers.L1) else ref_l1l2(w, l2=reg.l2))
        np.testing.assert_allclose([float(v) for v in layer.losses], expected, rtol=1e-6)
    sep = cases[3][0]
    assert isinstance(sep.depthwise_kernel.constraint, constraints.MaxNorm)
    assert isinstance(sep.pointwise_kernel.constraint, constraints.UnitNorm) and sep.bias.constraint is None
    keys = set(layers.Conv1D(2, 3).get_config())
    assert {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
            "bias_constraint"} <= keys


def test_batch_normalization_beta_gamma_options():
    bn = layers.BatchNormalization(gamma_regularizer="l2", beta_regularizer=regularizers.L1(0.5),
                                   gamma_constraint=constraints.MaxNorm(0.5), beta_constraint="non_neg")
    bn(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32), training=True)
    np.testing.assert_allclose([float(v) for v in bn.losses], [0.01 * 3, 0.0])  # gamma ones, beta zeros
    assert isinstance(bn.gamma.constraint, constraints.MaxNorm) and isinstance(bn.beta.constraint, constraints.NonNeg)
    assert bn.moving_mean.regularizer is None
    config = bn.get_config()
    assert config["gamma_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    assert layers.BatchNormalization.from_config(config).get_config() == config


# ---------------------------------------------------------------- training

def dense_model(dtype="float64", **dense_kwargs):
    model = pynn.Sequential([layers.Input((4,), dtype=dtype), layers.Dense(3, dtype=dtype, **dense_kwargs)],
                            dtype=dtype)  # (a Sequential casts its inputs to its own dtype first)
    return model


def test_compute_loss_and_one_sgd_step_against_numpy():
    """Loss = mse + 0.1 sum W^2 + 0.2 sum |b| + 0.05 sum z^2 / n; SGD's step follows its gradient, then
    MaxNorm projects the kernel's columns and NonNeg the bias."""
    rng = np.random.default_rng(4)
    n, lr = 6, 0.1
    x, t = rng.normal(size=(n, 4)), rng.normal(size=(n, 3))
    w0, b0 = rng.normal(size=(4, 3)), np.array([0.3, -0.2, 0.05])
    for constrained in (False, True):
        kwargs = dict(kernel_constraint=constraints.MaxNorm(0.6), bias_constraint="non_neg") if constrained else {}
        model = dense_model(kernel_regularizer=regularizers.L2(0.1), bias_regularizer=regularizers.L1(0.2),
                            activity_regularizer=regularizers.L2(0.05), **kwargs)
        model.compile(optimizer=optimizers.SGD(lr), loss="mse")
        model.set_weights([w0, b0])
        z = x @ w0 + b0
        total = np.mean((z - t) ** 2) + 0.1 * np.sum(w0 ** 2) + 0.2 * np.sum(np.abs(b0)) + 0.05 * np.sum(z ** 2) / n
        np.testing.assert_allclose(float(model.compute_loss(t, model(x))), total, rtol=1e-12)
        np.testing.assert_allclose(model.evaluate(x, t, batch_size=n, verbose=0), total, rtol=1e-12)
        # two batches: the tracker's batch-size weighted mean of each batch's total
        per = [np.mean((z[s] - t[s]) ** 2) + 0.1 * np.sum(w0 ** 2) + 0.2 * np.sum(np.abs(b0))
               + 0.05 * np.sum(z[s] ** 2) / len(z[s]) for s in (slice(0, 4), slice(4, 6))]
        np.testing.assert_allclose(model.evaluate(x, t, batch_size=4, verbose=0), (4 * per[0] + 2 * per[1]) / 6,
                                   rtol=1e-12)
        loss = model.train_on_batch(x, t)
        np.testing.assert_allclose(loss, total, rtol=1e-12)
        dz = 2 * (z - t) / z.size + 0.05 * 2 * z / n
        w1 = w0 - lr * (x.T @ dz + 0.1 * 2 * w0)
        b1 = b0 - lr * (dz.sum(axis=0) + 0.2 * np.sign(b0))
        if constrained:
            w1, b1 = ref_max_norm(w1, 0.6, 0), np.maximum(b1, 0)
        got_w, got_b = model.get_weights()
        np.testing.assert_allclose(got_w, w1, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got_b, b1, rtol=1e-12, atol=1e-15)
        if constrained:
            assert np.all(np.sqrt((got_w ** 2).sum(axis=0)) <= 0.6 + 1e-12) and np.all(got_b >= 0)


def test_optimizer_applies_constraints_after_the_update():
    v = pynn.Variable(np.array([[3.0, -4.0], [0.0, 1.0]]))
    v.constraint = constraints.NonNeg()
    u = pynn.Variable(np.array([-1.0, 2.0]))
    u.constraint = constraints.NonNeg()
    opt = optimizers.SGD(0.5)
    opt.apply([pynn.tensor(np.ones((2, 2))), None], [v, u])
    np.testing.assert_array_equal(value(v), [[2.5, 0.0], [0.0, 0.5]])
    np.testing.assert_array_equal(value(u), [-1.0, 2.0])  # no gradient: neither updated nor projected, as Keras
    w = pynn.Variable(np.array([3.0, 4.0]))
    w.constraint = lambda x: x * 0.5  # any callable
    optimizers.Adam(0.1, use_ema=True).apply_gradients([(pynn.tensor([0.0, 0.0]), w)])
    np.testing.assert_allclose(value(w), [1.5, 2.0])


def conv_model(data_format, dtype="float32"):
    shape = (7, 7, 2) if data_format == "channels_last" else (2, 7, 7)

    def make(**options):
        model = pynn.Sequential([
            layers.Input(shape, dtype=dtype),
            layers.Conv2D(4, 3, activation="relu", data_format=data_format, dtype=dtype, kernel_regularizer="l2",
                          bias_regularizer=regularizers.L1(0.1), activity_regularizer=regularizers.L1L2(0.01, 0.02),
                          kernel_constraint=constraints.MaxNorm(0.4, axis=[0, 1, 2]), bias_constraint="non_neg"),
            layers.BatchNormalization(axis=-1 if data_format == "channels_last" else 1, dtype=dtype,
                                      gamma_constraint=constraints.MinMaxNorm(0.5, 1.0),
                                      beta_regularizer="l2"),
            layers.Flatten(data_format=data_format, dtype=dtype),
            layers.Dense(3, activation="softmax", dtype=dtype,
                         kernel_regularizer=regularizers.OrthogonalRegularizer(0.1),
                         kernel_constraint=constraints.UnitNorm(), activity_regularizer="l2"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return model
    return make


@pytest.mark.parametrize("data_format,dtype", [("channels_last", "float32"), ("channels_first", "float32"),
                                               ("channels_last", "float64")])
def test_training_captured_equals_eager_and_keeps_the_constraints(data_format, dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(45, 7, 7, 2) if data_format == "channels_last" else (45, 2, 7, 7)).astype(dtype)
    y = rng.integers(0, 3, 45)

    def run(model):
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
        return history, model.evaluate(x, y, batch_size=20, verbose=0)

    ((ha, ea), a), ((hb, eb), b) = captured_and_eager(conv_model(data_format, dtype), run)
    np.testing.assert_equal(ha, hb)
    np.testing.assert_equal(ea, eb)
    assert_same_state(a, b)
    conv, bn, dense = a.layers[0], a.layers[1], a.layers[3]
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert np.all(np.sqrt((value(conv.kernel) ** 2).sum(axis=(0, 1, 2))) <= 0.4 + tol)
    assert np.all(value(conv.bias) >= 0)
    np.testing.assert_allclose(np.sqrt((value(dense.kernel) ** 2).sum(axis=0)), 1.0, rtol=1e-6)  # n / (n + eps)
    assert 0.5 - tol <= np.linalg.norm(value(bn.gamma)) <= 1.0 + tol
    # the recorded loss includes the penalties: evaluate's loss is larger than the cross-entropy alone
    probs = value(a.predict(x, verbose=0))
    ce = -np.mean(np.log(probs[np.arange(len(y)), y]))
    assert ea[0] > ce + 0.01


def test_dense_training_captured_equals_eager():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 5)).astype(np.float32), rng.integers(0, 4, 50)

    def make(**options):
        model = pynn.Sequential([
            layers.Input((5,)),
            layers.Dense(8, activation="tanh", kernel_regularizer=regularizers.L1L2(0.01, 0.01),
                         bias_regularizer="l2", activity_regularizer="l1", kernel_constraint=constraints.MaxNorm(1.0),
                         bias_constraint=constraints.NonNeg()),
            layers.Dense(4, activation="softmax", kernel_constraint=constraints.MinMaxNorm(0.2, 0.8, 0.9)),
        ])
        model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], **options)
        return model

    def run(model):
        return model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x[:20], y[:20])).history

    (ha, a), (hb, b) = captured_and_eager(make, run)
    np.testing.assert_equal(ha, hb)
    assert_same_state(a, b)
    first = a.layers[0]
    assert np.all(np.sqrt((value(first.kernel) ** 2).sum(axis=0)) <= 1.0 + 1e-6) and np.all(value(first.bias) >= 0)


# ---------------------------------------------------------------- saving

def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 7, 7, 2)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    pynn.random.seed(0)
    model = conv_model("channels_last")()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    model.save(tmp_path / "m.pynn")
    again = load_model(tmp_path / "m.pynn")
    for la, lb in zip(model.layers, again.layers):
        assert la.get_config() == lb.get_config()
    for va, vb in zip(model.weights, again.weights):
        assert type(getattr(va, "regularizer", None)) is type(getattr(vb, "regularizer", None))
        assert type(getattr(va, "constraint", None)) is type(getattr(vb, "constraint", None))
    ea, eb = model.evaluate(x, y, verbose=0), again.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(ea, eb, rtol=1e-6)
    np.testing.assert_allclose([float(v) for v in model.losses], [float(v) for v in again.losses], rtol=1e-6)
    again.fit(x, y, batch_size=10, epochs=1, verbose=0)  # the loaded constraints act on its updates
    assert np.all(value(again.layers[0].bias) >= 0)


class Scaled(regularizers.Regularizer):
    def __init__(self, scale=1.0):
        self.scale = scale

    def __call__(self, x):
        return pynn.sum(pynn.abs(x)) * self.scale

    def get_config(self):
        return {"scale": self.scale}


class Clip(constraints.Constraint):
    def __init__(self, bound=1.0):
        self.bound = bound

    def __call__(self, w):
        return pynn.clip(w, -self.bound, self.bound)

    def get_config(self):
        return {"bound": self.bound}


def test_custom_classes_load_through_custom_objects(tmp_path):
    model = pynn.Sequential([layers.Input((3,)), layers.Dense(2, kernel_regularizer=Scaled(0.5),
                                                              kernel_constraint=Clip(0.1))])
    model.save(tmp_path / "c.pynn")
    with pytest.raises(ValueError, match="unknown regularizer class 'Scaled'.*custom_objects"):
        load_model(tmp_path / "c.pynn")
    again = load_model(tmp_path / "c.pynn", custom_objects={"Scaled": Scaled, "Clip": Clip})
    kernel = again.layers[0].kernel
    assert isinstance(kernel.regularizer, Scaled) and kernel.regularizer.scale == 0.5
    assert isinstance(kernel.constraint, Clip) and kernel.constraint.bound == 0.1
    np.testing.assert_allclose(float(again.losses[0]), 0.5 * np.abs(model.get_weights()[0]).sum(), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown regularizer class 'Scaled'"):  # the scope ended with the load
        regularizers.get(regularizers.serialize(Scaled()))
