"""User errors: the right exception type, a message that names the op (DESIGN §4.1), and
NumPy's (or Keras') behaviour where they accept the input."""

import re
import threading
import time

import numpy as np
import pytest

import pynn
from pynn.layers import base as layers_base
from oracle import python_child

SUPPORTED = "pynn supports bool, uint8, int32, int64, float32 and float64"


# ---------------------------------------------------------------- dtype errors name the op

@pytest.mark.parametrize("op, call", [
    ("zeros", lambda d: pynn.zeros(3, dtype=d)),
    ("ones", lambda d: pynn.ones(3, dtype=d)),
    ("empty", lambda d: pynn.empty(3, dtype=d)),
    ("full", lambda d: pynn.full(3, 1.0, dtype=d)),
    ("zeros_like", lambda d: pynn.zeros_like(pynn.zeros(2), dtype=d)),
    ("ones_like", lambda d: pynn.ones_like(pynn.zeros(2), dtype=d)),
    ("full_like", lambda d: pynn.full_like(pynn.zeros(2), 1, dtype=d)),
    ("empty_like", lambda d: pynn.empty_like(pynn.zeros(2), dtype=d)),
    ("arange", lambda d: pynn.arange(3, dtype=d)),
    ("eye", lambda d: pynn.eye(3, dtype=d)),
    ("tensor", lambda d: pynn.tensor([1.0], dtype=d)),
    ("astype", lambda d: pynn.zeros(2).astype(d)),
    ("random.normal", lambda d: pynn.random.normal((2,), dtype=d)),
    ("Dense", lambda d: pynn.layers.Dense(2, dtype=d)),
])
def test_dtype_errors_name_the_op(op, call):
    with pytest.raises(TypeError, match=rf"^{op}: unsupported dtype complex64: {SUPPORTED}$"):
        call("complex64")
    with pytest.raises(TypeError, match=rf"^{op}: data type 'nonsense' not understood$"):
        call("nonsense")


@pytest.mark.parametrize("op, call", [
    ("from_numpy", lambda a: pynn.from_numpy(a)),
    ("tensor", lambda a: pynn.tensor(a)),
    ("add", lambda a: pynn.add(pynn.zeros(2), a)),
    ("exp", lambda a: pynn.exp(a)),
    ("zeros_like", lambda a: pynn.zeros_like(a)),
])
def test_unsupported_numpy_dtypes_name_the_op(op, call):
    with pytest.raises(TypeError, match=rf"^{op}: unsupported dtype complex128: {SUPPORTED}$"):
        call(np.zeros(2, np.complex128))


def test_ragged_lists_name_the_op():
    ragged = [[1.0], [1.0, 2.0]]
    with pytest.raises(ValueError) as numpy_error:
        np.asarray(ragged)
    for op, call in (("tensor", pynn.tensor), ("add", lambda x: pynn.add(x, 1))):
        with pytest.raises(ValueError) as e:
            call(ragged)
        assert str(e.value) == f"{op}: {numpy_error.value}"


def test_get_and_fit_errors_name_the_function():
    with pytest.raises(ValueError, match="^optimizers.get: unknown optimizer"):
        pynn.optimizers.get("nope")
    with pytest.raises(ValueError, match="^losses.get: unknown loss"):
        pynn.losses.get("nope")
    with pytest.raises(ValueError, match="^metrics.get: unknown metric"):
        pynn.metrics.get("nope")
    with pytest.raises(ValueError, match="^initializers.get: unknown initializer"):
        pynn.initializers.get("nope")
    with pytest.raises(ValueError, match="^SGD: only one of clipnorm"):
        pynn.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    model = pynn.Sequential([pynn.Input((2,)), pynn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="^predict: x is required"):
        model.predict(None)


# ---------------------------------------------------------------- softmax axis, bce name

@pytest.mark.parametrize("fn", [pynn.softmax, pynn.log_softmax])
def test_softmax_axis_must_be_an_int(fn):
    x = pynn.zeros((2, 3))
    with pytest.raises(TypeError, match=rf"^{fn.__name__}: axis must be an int, got str$"):
        fn(x, axis="a")
    with pytest.raises(TypeError, match="axis"):
        fn(x, axis=1.0)
    with pytest.raises(pynn.AxisError, match=rf"^{fn.__name__}: axis 2 is out of bounds"):
        fn(x, axis=2)  # was taken modulo ndim: softmax over axis 0
    with pytest.raises(pynn.AxisError):
        fn(x, axis=-3)
    np.testing.assert_allclose(fn(x, axis=np.int64(-2)).numpy(), fn(x, axis=0).numpy())


def test_sigmoid_binary_cross_entropy_errors_use_the_public_name():
    with pytest.raises(ValueError) as e:
        pynn.sigmoid_binary_cross_entropy(pynn.zeros((2, 2)), pynn.zeros(3))
    assert str(e.value).startswith("sigmoid_binary_cross_entropy: ") and "bce_logits" not in str(e.value)
    with pytest.raises(TypeError, match="^sigmoid_binary_cross_entropy: "):
        pynn.sigmoid_binary_cross_entropy(pynn.zeros(2), np.zeros(2, np.complex64))
    assert float(pynn.sigmoid_binary_cross_entropy(pynn.zeros(2), pynn.ones(2))) == pytest.approx(np.log(2.0))


# ---------------------------------------------------------------- AttributeErrors that were

def test_zeros_like_of_array_likes_follows_numpy():
    for value in (3, [1, 2, 3], np.zeros((2, 2), np.int32), [[True, False]]):
        r, want = pynn.zeros_like(value), np.zeros_like(value)
        assert r.shape == want.shape and r.dtype == want.dtype
        assert np.array_equal(r.numpy(), want)
    # Python floats give pynn's default float (float32), as pynn.tensor does.
    assert pynn.ones_like([1.0, 2.0]).dtype == pynn.tensor([1.0, 2.0]).dtype == pynn.float32
    assert pynn.full_like(np.zeros(2), 7).tolist() == [7.0, 7.0]
    assert pynn.empty_like(5).shape == ()


def test_astype_none_is_float64_as_numpy():
    a = np.arange(3, dtype=np.int32)
    assert a.astype(None).dtype == np.float64  # the oracle
    r = pynn.from_numpy(a).astype(None)
    assert r.dtype == pynn.float64 and r.tolist() == [0.0, 1.0, 2.0]


def test_layers_accept_nested_lists_as_keras_does():
    layer = pynn.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    y = layer([[1.0, 2.0]])
    assert y.shape == (1, 2) and y.tolist() == [[3.0, 3.0]]
    assert pynn.layers.ReLU()([[-1.0, 2.0]]).tolist() == [[0.0, 2.0]]
    assert pynn.layers.Flatten()([[[1, 2], [3, 4]]]).shape == (1, 4)


@pytest.mark.parametrize("how", ["apply_gradients", "apply"])
@pytest.mark.parametrize("grad", [np.array([1.0, -2.0]), np.array([1, -2]), [1.0, -2.0]])
def test_optimizers_convert_numpy_gradients(how, grad):
    v, w = pynn.Variable([1.0, 1.0]), pynn.Variable([1.0, 1.0])
    opt_np, opt_t = pynn.optimizers.Adam(0.1), pynn.optimizers.Adam(0.1)
    if how == "apply_gradients":
        opt_np.apply_gradients([(grad, v)])
    else:
        opt_np.apply([grad], [v])
    opt_t.apply([pynn.tensor([1.0, -2.0])], [w])
    assert v.tolist() == w.tolist() != [1.0, 1.0]


def test_optimizer_gradient_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="shape"):
        pynn.optimizers.SGD().apply([np.ones(3)], [pynn.Variable([1.0, 2.0])])


# ---------------------------------------------------------------- submodules, layer names

def test_import_pynn_binds_the_submodules_the_readme_uses():
    names = ["callbacks", "losses", "metrics", "optimizers", "initializers", "activations", "datasets", "utils",
             "models", "layers", "random"]
    code = "import pynn\n" + "".join(f"pynn.{n}\n" for n in names) + "pynn.callbacks.EarlyStopping\n"
    python_child(code, check=True)


def test_clear_session_restarts_the_layer_names():
    pynn.utils.clear_session()
    assert pynn.layers.Dense(1).name == "dense"
    assert pynn.layers.Dense(1).name == "dense_1"
    pynn.utils.clear_session()
    assert pynn.layers.Dense(1).name == "dense"


class _SlowName(str):
    """A name whose hash gives the GIL away, so threads interleave inside the counter's dict
    look-ups (an unlocked get-then-set gave 347 distinct names out of 1600)."""

    def __hash__(self):
        time.sleep(0)
        return str.__hash__(self)


def test_layer_names_are_unique_under_threads():
    pynn.utils.clear_session()
    names, barrier = [], threading.Barrier(8)

    def work():
        barrier.wait()
        names.extend(layers_base.unique_name(_SlowName("race")) for _ in range(200))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(names) == 1600 and len(set(names)) == 1600
    layers = []
    threads = [threading.Thread(target=lambda: layers.extend(pynn.layers.ReLU() for _ in range(50))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({layer.name for layer in layers}) == 200


# ---------------------------------------------------------------- conversions name the op

@pytest.mark.parametrize("op, call", [
    ("softmax", pynn.softmax), ("log_softmax", pynn.log_softmax), ("transpose", pynn.transpose),
    ("squeeze", pynn.squeeze), ("sum", pynn.sum), ("argmax", pynn.argmax), ("mean", pynn.mean),
    ("matmul", lambda v: pynn.matmul(v, v)), ("where", lambda v: pynn.where(v, 1, 2)),
    ("sigmoid_binary_cross_entropy", lambda v: pynn.sigmoid_binary_cross_entropy(v, pynn.zeros(1))),
    ("Variable", pynn.Variable),
    ("dense (Dense)", lambda v: pynn.layers.Dense(1, name="dense")(v)),
])
def test_array_like_conversion_errors_name_the_op(op, call):
    with pytest.raises(TypeError, match=rf"^{re.escape(op)}: unsupported dtype (str|<U)"):
        call(["a"])
    with pytest.raises(ValueError, match=rf"^{re.escape(op)}: setting an array element with a sequence"):
        call([[1.0], [1.0, 2.0]])


@pytest.mark.parametrize("op, call", [
    ("add", lambda: pynn.add(pynn.zeros(2, dtype="int32"), 2**40)),
    ("exp", lambda: pynn.exp(2**70)),
    ("setitem", lambda: pynn.zeros(2, dtype="uint8").__setitem__(0, 300)),
])
def test_weak_int_overflow_names_the_op(op, call):
    with pytest.raises(OverflowError, match=rf"^{op}: Python integer \d+ out of bounds for "):
        call()


def test_numpy_argument_errors_name_the_creation_function():
    with pytest.raises(TypeError, match="^arange: "):
        pynn.arange("a")
    with pytest.raises(TypeError, match="^eye: "):
        pynn.eye("a")
    with pytest.raises(TypeError, match=r"^random.normal: shape must be an int or a sequence of ints"):
        pynn.random.normal("ab")
    with pytest.raises(ValueError, match=r"^random.uniform: negative dimensions are not allowed"):
        pynn.random.uniform((2, -1))
    with pytest.raises(TypeError, match="^transpose: axes must be an int or a sequence of ints, not float$"):
        pynn.transpose(pynn.zeros((2, 3)), 1.5)
    with pytest.raises(TypeError, match="^broadcast_to: shape must be an int or a sequence of ints, not NoneType$"):
        pynn.broadcast_to(pynn.zeros(3), None)


def test_dtype_none_means_the_default_float():
    for f in (pynn.zeros, pynn.ones, pynn.empty, pynn.eye):
        assert f(2, dtype=None).dtype == pynn.float32


def test_broadcast_to_an_int_shape_as_numpy():
    r, want = pynn.broadcast_to(pynn.tensor([5.0]), 3), np.broadcast_to(np.array([5.0], np.float32), 3)
    assert r.shape == want.shape and r.tolist() == want.tolist()


def test_models_called_on_nested_lists_take_them_as_one_input():
    x = [[1.0, 2.0], [3.0, 4.0]]
    seq = pynn.Sequential([pynn.Input((2,)), pynn.layers.Dense(3)])
    inp = pynn.Input((2,))
    functional = pynn.Model(inp, pynn.layers.Dense(3)(inp))
    for model in (seq, functional):
        np.testing.assert_allclose(model(x).numpy(), model(np.array(x, np.float32)).numpy())
    with pytest.raises(ValueError, match="takes one input"):
        seq([pynn.zeros((1, 2)), pynn.zeros((1, 2))])


@pytest.mark.parametrize("op, call", [
    ("mean_squared_error", lambda v: pynn.losses.MeanSquaredError()(v, pynn.zeros((1, 2)))),
    ("sparse_categorical_crossentropy", lambda v: pynn.losses.sparse_categorical_crossentropy(v, pynn.zeros((1, 2)))),
    ("accuracy", lambda v: pynn.metrics.Accuracy().update_state(v, pynn.zeros((1, 2)))),
])
def test_losses_and_metrics_name_themselves_in_conversion_errors(op, call):
    with pytest.raises(TypeError, match=rf"^{op}: unsupported dtype (str|<U)"):
        call(["a"])
