"""Regressions for the Python-level failures tests/fuzz found (seed 0): each call raised the
wrong exception type, a message without the public name, or ran forever. The oracle is the
fuzzer's: ValueError/TypeError/... (DatasetError for loaders) whose message names the
function or class the user called; NumPy's or Keras' results where the call succeeds."""

import math

import numpy as np
import pytest

import pynn
from pynn.datasets._idx import DatasetError
from pynn.utils import named_error


class LyingLen:
    """A 'sequence' whose __len__ claims 2**62 items and whose __getitem__ never ends."""

    def __len__(self):
        return 2 ** 62

    def __getitem__(self, i):
        return 0


# ------------------------------------------------------------------ shapes (bounded conversion)
@pytest.mark.parametrize("name, cls", [("lecun_normal", "LecunNormal"), ("glorot_uniform", "GlorotUniform"),
                                       ("zeros", "Zeros"), ("orthogonal", "Orthogonal"), ("identity", "Identity")])
def test_initializer_with_a_lying_shape_raises_instead_of_hanging(name, cls):
    # was: compute_fans walked the 2**62 "dimensions" forever (the walk now stops at the 17th item)
    with pytest.raises(ValueError, match=f"^{cls}: pynn supports at most 16 dimensions"):
        pynn.initializers.get(name)(LyingLen(), dtype="float32")


def test_random_functions_bound_the_shape_too():
    with pytest.raises(ValueError, match="^random.normal: pynn supports at most 16 dimensions"):
        pynn.random.normal(LyingLen())
    with pytest.raises(ValueError, match="^random.uniform: pynn supports at most 16 dimensions"):
        pynn.random.uniform((1,) * 17)
    assert pynn.random.uniform((1,) * 16).shape == (1,) * 16


@pytest.mark.parametrize("name, cls", [("he_normal", "HeNormal"), ("glorot_uniform", "GlorotUniform"),
                                       ("ones", "Ones")])
def test_initializer_shape_with_none_is_a_typeerror_naming_it(name, cls):
    # was: "int() argument must be ... not 'NoneType'"
    with pytest.raises(TypeError, match=f"^{cls}: shape dimensions must be integers, got None"):
        pynn.initializers.get(name)((None, 1))


def test_compute_fans_names_itself():
    with pytest.raises(TypeError, match="^compute_fans: "):
        pynn.initializers.compute_fans(("a", 2))
    assert pynn.initializers.compute_fans((3, 4, 5)) == (12, 15)


# ------------------------------------------------------------------ dtype=None is the default float32
@pytest.mark.parametrize("name", ["he_normal", "random_uniform", "glorot_uniform", "lecun_uniform", "he_uniform",
                                  "random_normal", "truncated_normal", "zeros", "constant", "orthogonal",
                                  "identity"])
def test_initializer_dtype_none_is_float32(name):
    # was: AttributeError "'NoneType' object has no attribute 'is_floating_point'" (Keras: None -> floatx)
    init = pynn.initializers.get(name)
    got = init((3, 3), dtype=None)
    assert got.dtype == pynn.float32 and got.shape == (3, 3)
    # the same numbers as with the explicit default, for a seeded initializer
    if name not in ("zeros", "constant", "identity"):
        seeded = type(init)(seed=7)
        np.testing.assert_array_equal(np.asarray(seeded((3, 3), dtype=None)),
                                      np.asarray(type(init)(seed=7)((3, 3), dtype="float32")))


def test_a_0d_shape_gives_a_0d_sample_as_numpy():
    # found beside the dtype=None case: np.ascontiguousarray made shape () into (1,)
    assert np.random.default_rng(0).normal(size=()).shape == ()
    assert pynn.random.normal(()).shape == ()
    assert pynn.random.uniform(()).shape == ()
    assert pynn.random.truncated_normal(()).shape == ()
    assert pynn.initializers.get("he_normal")((), dtype=None).shape == ()


def test_random_uniform_with_maxval_below_minval_names_it():
    # was: NumPy's bare "high - low < 0"
    with pytest.raises(ValueError, match=r"^random.uniform: high - low < 0"):
        pynn.random.uniform((2, 3), minval=1, maxval=0)


def test_named_error_keeps_the_class_and_prefixes_once():
    e = named_error("random.uniform", ValueError("high - low < 0"))
    assert type(e) is ValueError and str(e) == "random.uniform: high - low < 0"
    assert str(named_error("op", OverflowError("op: x"))) == "op: x"
    assert type(named_error("op", np.exceptions.AxisError(1, 0))) is ValueError  # NumPy subclass -> base


# ------------------------------------------------------------------ optimizers
@pytest.mark.parametrize("arg, what", [(None, "expected an iterable of \\(gradient, variable\\) pairs, got NoneType"),
                                       ([1], "each item must be a \\(gradient, variable\\) pair, got int"),
                                       ([(1, 2, 3)], "each item must be a \\(gradient, variable\\) pair, got tuple")])
@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_apply_gradients_with_non_pairs_names_the_optimizer(cls, arg, what):
    # was: "'NoneType' object is not iterable" / "cannot unpack non-iterable int object"
    opt = getattr(pynn.optimizers, cls)()
    with pytest.raises(TypeError, match=f"^{cls}.apply_gradients: {what}"):
        opt.apply_gradients(arg)


def test_apply_gradients_still_applies_pairs():
    v = pynn.Variable(np.array([1.0, 2.0], dtype="float32"))
    pynn.optimizers.SGD(learning_rate=0.5).apply_gradients(zip([pynn.tensor(np.array([1.0, -2.0], "float32"))], [v]))
    np.testing.assert_allclose(np.asarray(v), [0.5, 3.0])


def test_adam_with_beta_1_equal_to_1_follows_ieee_math_not_zerodivision():
    # was: ZeroDivisionError in the bias correction 1 / (1 - beta_1**t). Keras computes it in tensor math:
    # alpha = inf, m stays 0, var -= inf * 0 / ... = NaN. Oracle: the rule in Adam's docstring with NumPy.
    x0, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
    v = pynn.Variable(x0.copy())
    opt = pynn.optimizers.Adam(beta_1=1.0)
    with np.errstate(all="ignore"):
        opt.apply([pynn.tensor(g)], [v])
        b1, b2, lr, eps = 1.0, 0.999, 0.001, 1e-7
        m = np.zeros(2) + (g - 0) * (1 - b1)
        s = np.zeros(2) + (g * g - 0) * (1 - b2)
        alpha = lr * np.sqrt(1 - np.float64(b2)) / (1 - np.float64(b1))
        expect = x0 - alpha * m / (np.sqrt(s) + eps)
    np.testing.assert_array_equal(np.asarray(v), expect)
    assert np.isnan(np.asarray(v)).all()


def test_nadam_and_adamax_with_degenerate_betas_do_not_raise():
    for opt in (pynn.optimizers.Nadam(beta_1=1e300), pynn.optimizers.Adamax(beta_1=1.0),
                pynn.optimizers.Nadam(beta_1=1.0 / 0.52)):
        v = pynn.Variable(np.ones(2))
        with np.errstate(all="ignore"):
            opt.apply([pynn.tensor(np.ones(2))], [v])  # was ZeroDivisionError / OverflowError


def test_adam_default_numbers_unchanged():
    # one step of the documented rule, float64
    x0, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
    v = pynn.Variable(x0.copy())
    pynn.optimizers.Adam().apply([pynn.tensor(g)], [v])
    m, s = g * 0.1, g * g * 0.001
    alpha = 0.001 * math.sqrt(1 - 0.999) / (1 - 0.9)
    np.testing.assert_allclose(np.asarray(v), x0 - alpha * m / (np.sqrt(s) + 1e-7), rtol=1e-12)


def test_adagrad_negative_initial_accumulator_is_refused_in_init():
    # was: "full: Python integer -1 out of bounds for uint8" at the first update (Keras 2 refused it)
    with pytest.raises(ValueError, match="^Adagrad: `initial_accumulator_value` must be non-negative"):
        pynn.optimizers.Adagrad(initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="^Adagrad: "):
        pynn.optimizers.Adagrad(initial_accumulator_value=float("nan"))


def test_adagrad_accumulator_out_of_the_variable_range_names_adagrad():
    v = pynn.Variable(np.zeros(2, dtype="uint8"))
    with pytest.raises(OverflowError, match="^Adagrad: cannot make the accumulator of a uint8 variable"):
        pynn.optimizers.Adagrad(initial_accumulator_value=300).apply([pynn.tensor(np.ones(2, "uint8"))], [v])


# ------------------------------------------------------------------ layers
@pytest.mark.parametrize("kwargs, arg", [({"max_value": "a"}, "max_value"), ({"negative_slope": "a"}, "negative_slope"),
                                         ({"threshold": None}, "threshold"), ({"max_value": True}, "max_value")])
def test_relu_non_numbers_are_typeerrors_naming_relu(kwargs, arg):
    # was: "'<' not supported between instances of 'str' and 'int'"
    with pytest.raises(TypeError, match=f"^ReLU: {arg} must be a number"):
        pynn.layers.ReLU(**kwargs)
    assert pynn.layers.ReLU(max_value=6).max_value == 6


@pytest.mark.parametrize("kwargs, arg", [({"momentum": "a"}, "momentum"), ({"epsilon": "a"}, "epsilon")])
def test_batchnorm_non_numbers_are_typeerrors_naming_it(kwargs, arg):
    with pytest.raises(TypeError, match=f"^BatchNormalization: {arg} must be a number"):
        pynn.layers.BatchNormalization(**kwargs)


def test_batchnorm_called_on_a_scalar_after_build_names_the_layer_and_shape():
    # was: ZeroDivisionError "integer modulo by zero" (axis % 0)
    layer = pynn.layers.BatchNormalization()
    layer(pynn.tensor(np.ones((4, 5, 1), "float32")), training=False)
    with pytest.raises(ValueError, match=r"\(BatchNormalization\): axis -1 is out of range for input shape \(\)"):
        layer(3)


def test_reshape_target_shape_must_be_a_sequence():
    # was: "'int' object is not iterable"
    with pytest.raises(TypeError, match="^Reshape: target_shape must be a sequence of ints, got int"):
        pynn.layers.Reshape(3)
    with pytest.raises(ValueError, match="^Reshape: pynn supports at most 16 dimensions"):
        pynn.layers.Reshape(LyingLen())
    assert pynn.layers.Reshape((3, -1)).target_shape == (3, -1)


# ------------------------------------------------------------------ models
def _model():
    pynn.random.seed(0)
    model = pynn.Sequential([pynn.layers.Input(shape=(3,)), pynn.layers.Dense(4, activation="relu"),
                             pynn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=None, loss="sparse_categorical_crossentropy")
    return model


def test_training_a_model_compiled_without_optimizer_is_a_valueerror():
    # was: AttributeError "'NoneType' object has no attribute 'apply'" (and '_fusable' in fit)
    x, y = np.ones((5, 3), "float32"), np.array([0, 1, 2, 0, 1])
    model = _model()
    with pytest.raises(ValueError, match="^train_on_batch: the model was compiled with optimizer=None"):
        model.train_on_batch(x, y)
    with pytest.raises(ValueError, match="^fit: the model was compiled with optimizer=None"):
        model.fit(x, y, epochs=1, verbose=0)
    # evaluating and predicting need no optimizer
    assert np.isfinite(model.evaluate(x, y, verbose=0))
    assert model.test_on_batch(x, y) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    assert model.predict(x, verbose=0).shape == (5, 3)


def test_untrained_model_without_compile_still_says_compile():
    model = pynn.Sequential([pynn.layers.Input(shape=(3,)), pynn.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"^You must call compile\(\) before train_on_batch"):
        model.train_on_batch(np.ones((2, 3), "float32"), np.ones((2, 2), "float32"))


# ------------------------------------------------------------------ loaders
@pytest.mark.parametrize("mod", ["mnist", "fashion_mnist"])
def test_loader_with_a_too_long_path_raises_dataset_error_naming_it(mod):
    # was: a raw OSError ENAMETOOLONG from pathlib's is_file()
    with pytest.raises(DatasetError, match=f"^{mod}.load_data: cannot look for /aaaa"):
        getattr(pynn.datasets, mod).load_data(path="/" + "a" * 5000)
    assert issubclass(DatasetError, OSError)


# ------------------------------------------------------------------ metrics
def test_confusion_metric_with_y_true_larger_than_y_pred_names_it():
    # was: NumPy's "input operand has more dimensions than allowed by the axis remapping"
    with pytest.raises(ValueError, match=r"^recall: y_true of shape \(3, 2\) does not broadcast to the "
                                         r"predictions of shape \(2,\)"):
        pynn.metrics.get("recall")(np.ones((3, 2), "float32"), pynn.tensor(np.ones(2, "int32")))


# ------------------------------------------------------------------ Variable.assign
def test_variable_assign_nan_into_an_integer_variable_names_assign():
    # NumPy raises ValueError here too; pynn's message now names the method
    with pytest.raises(ValueError):
        np.zeros(3, "int64")[...] = float("nan")
    v = pynn.Variable(np.arange(4, dtype="int64"))
    with pytest.raises(ValueError, match=r"^Variable.assign: .*NaN"):
        v.assign(float("nan"))
    np.testing.assert_array_equal(np.asarray(v.assign(7)), [7, 7, 7, 7])


def test_a_loss_function_returning_a_python_number_is_converted_as_keras_does():
    # seed 1: "'int' object has no attribute 'ndim'" (AttributeError) from compute_loss
    pynn.random.seed(0)
    model = pynn.Sequential([pynn.layers.Input(shape=(3,)), pynn.layers.Dense(2)])
    model.compile(optimizer="adam", loss=lambda y_true, y_pred: 3)
    x, y = np.ones((2, 3), "float32"), np.zeros((2, 2), "float32")
    before = [np.asarray(w).copy() for w in model.trainable_variables]
    history = model.fit(x, y, epochs=1, verbose=0)
    assert history.history["loss"] == [3.0]
    for w, b in zip(model.trainable_variables, before):  # a constant loss has no gradient: nothing moves
        np.testing.assert_array_equal(np.asarray(w), b)
    model.compile(optimizer="adam", loss=lambda y_true, y_pred: "x")
    with pytest.raises(TypeError, match="^compute_loss: the loss function must return a tensor or numbers"):
        model.fit(x, y, epochs=1, verbose=0)
