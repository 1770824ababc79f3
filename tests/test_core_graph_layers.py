"""Keras 3's graph layers: Dot / dot (against a NumPy float64 per-sample tensordot, Keras'
np_dot), Lambda, Identity, Sequential.pop with .inputs / .outputs, and Input(batch_shape=);
functional models with them train captured as they do eagerly and survive save / load."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pynn
from pynn import layers, ops

from oracle import assert_like_numpy, assert_same_state, captured_and_eager


def np_dot(a, b, axes, normalize=False):
    """Keras' merging_test oracle: per sample, the tensordot over the two axes (shifted past
    the batch); a rank-1 result becomes (batch, 1). In float64, with the l2 normalization
    (x / max(||x||, 1e-7)) written out."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if isinstance(axes, int):
        axes = (axes, axes)
    axes = [ax % x.ndim for ax, x in zip(axes, (a, b))]
    if normalize:
        a = a / np.maximum(np.sqrt(np.sum(a * a, axis=axes[0], keepdims=True)), 1e-7)
        b = b / np.maximum(np.sqrt(np.sum(b * b, axis=axes[1], keepdims=True)), 1e-7)
    out = []
    for i in range(a.shape[0]):
        s = np.zeros([a.shape[k] for k in range(1, a.ndim) if k != axes[0]] +
                     [b.shape[k] for k in range(1, b.ndim) if k != axes[1]])
        for k in range(a.shape[axes[0]]):  # the sum product, written as a loop over the summed axis
            s = s + np.multiply.outer(np.take(a[i], k, axis=axes[0] - 1), np.take(b[i], k, axis=axes[1] - 1))
        out.append(s)
    res = np.stack(out)
    return res[:, None] if res.ndim == 1 else res


CASES = [  # (shape of the first input, shape of the second, axes, Keras' output shape)
    ((2, 4), (2, 4), -1, (2, 1)),  # merging_test dot_2d
    ((2, 4, 5), (2, 4, 5), -1, (2, 4, 4)),  # merging_test dot_3d
    ((1, 3, 2), (1, 1, 2, 3), (-2, -1), (1, 2, 1, 2)),  # merging_test test_dot_higher_dim
    ((3, 5), (3, 4, 5), (1, 2), (3, 4)),
    ((3, 4, 5), (3, 5), (2, 1), (3, 4)),
    ((2, 3, 4, 5), (2, 5, 3), (1, 2), (2, 4, 5, 5)),
    ((1, 1), (1, 1), 1, (1, 1)),
    ((4, 1, 3), (4, 3, 1), (2, 1), (4, 1, 1)),
]


@pytest.mark.parametrize("s1, s2, axes, expected", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_as_numpy(s1, s2, axes, expected, dtype, normalize):
    rng = np.random.default_rng(len(s1) * 10 + len(s2))
    a, b = rng.normal(size=s1).astype(dtype), rng.normal(size=s2).astype(dtype)
    layer = layers.Dot(axes=axes, normalize=normalize, dtype=dtype)
    out = layer([a, b])
    assert out.shape == expected
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else {}
    assert_like_numpy(out, np_dot(a, b, axes, normalize).astype(dtype), **tol)
    symbolic = layers.Dot(axes=axes, normalize=normalize)([layers.Input(batch_shape=s1), layers.Input(batch_shape=s2)])
    assert symbolic.shape == expected
    unknown = layers.dot([layers.Input(shape=s1[1:]), layers.Input(shape=s2[1:])], axes=axes, normalize=normalize)
    assert unknown.shape == (None,) + expected[1:]


@given(st.data())
def test_dot_random_shapes(data):
    batch = data.draw(st.integers(1, 3))
    s1 = (batch,) + tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rest = data.draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    a0 = data.draw(st.integers(1, len(s1) - 1))
    a1 = data.draw(st.integers(1, len(rest) + 1))
    s2 = (batch,) + tuple(rest[:a1 - 1]) + (s1[a0],) + tuple(rest[a1 - 1:])
    axes = (a0 - len(s1) if data.draw(st.booleans()) else a0, a1)
    rng = np.random.default_rng(sum(s1) + sum(s2))
    a, b = rng.normal(size=s1), rng.normal(size=s2)
    assert_like_numpy(layers.dot([a, b], axes=axes, dtype="float64"), np_dot(a, b, axes))


def test_dot_keras_docstring_numbers():
    x = np.arange(10).reshape(1, 5, 2)
    y = np.arange(10, 20).reshape(1, 2, 5)
    np.testing.assert_array_equal(np.asarray(layers.Dot(axes=(1, 2))([x, y])), [[[260, 360], [320, 445]]])
    # normalize=True gives the cosine of the two samples: 1 for parallel vectors, -1 opposite, 0 orthogonal
    u = np.array([[3.0, 4.0], [1.0, 0.0], [2.0, 2.0]])
    v = np.array([[6.0, 8.0], [0.0, 5.0], [-1.0, -1.0]])
    np.testing.assert_allclose(np.asarray(layers.Dot(1, normalize=True, dtype="float64")([u, v])),
                               [[1.0], [0.0], [-1.0]], atol=1e-12)
    # a zero vector is divided by 1e-7, not by zero: the result stays finite (0)
    z = layers.Dot(-1, normalize=True)([np.zeros((2, 3)), np.ones((2, 3))])
    np.testing.assert_array_equal(np.asarray(z), np.zeros((2, 1), np.float32))
    # a vector shorter than 1e-7 is divided by 1e-7 (Keras' epsilon), not by its norm
    tiny = layers.Dot(-1, normalize=True, dtype="float64")([np.array([[1e-9, 0.0]]), np.array([[2.0, 0.0]])])
    np.testing.assert_allclose(np.asarray(tiny), [[1e-2]], rtol=1e-12)


@pytest.mark.parametrize("s1, s2, axes", [(c[0], c[1], c[2]) for c in CASES])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_gradcheck(s1, s2, axes, normalize):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=s1), rng.normal(size=s2)
    w = rng.normal(size=np_dot(a, b, axes).shape)  # a weighted sum: every output element matters
    layer = layers.Dot(axes=axes, normalize=normalize, dtype="float64")
    assert pynn.utils.gradcheck(lambda x, y: ops.multiply(layer([x, y]), w), [a, b])


def test_dot_errors():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="axes"):
        layers.Dot(axes="1")
    with pytest.raises(TypeError, match="axes"):
        layers.Dot(axes=None)
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot(axes=(1, 1, 1))
    with pytest.raises(ValueError, match="ints"):
        layers.Dot(axes=(1, 1.5))
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(1)([a, a, a])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(1)(a)
    with pytest.raises(ValueError, match="batch axis"):
        layers.Dot(axes=0)([a, a])
    with pytest.raises(ValueError, match=r"axis 1 of the first has size 3, axis 1 of the second has size 4"):
        layers.Dot(axes=1)([a, np.ones((2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"incompatible input shapes"):
        layers.Dot(axes=-1)([layers.Input((3,)), layers.Input((4,))])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Dot(axes=1)([a, np.ones((3, 3), np.float32)])
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.Dot(axes=-1)([np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match="out of range"):
        layers.Dot(axes=(1, 3))([a, a])


def test_dot_config_round_trip():
    layer = layers.Dot(axes=(1, 2), normalize=True, name="d")
    config = layer.get_config()
    assert config["axes"] == [1, 2] and config["normalize"] is True and config["name"] == "d"
    again = layers.Dot.from_config(config)
    assert again.axes == (1, 2) and again.normalize is True
    assert layers.Dot.from_config(layers.Dot(-1).get_config()).axes == -1


# ------------------------------------------------------------------------- Lambda and Identity

def stacker(x):
    return ops.concatenate([x, x], axis=1)


def stacker_shape(s):
    return (s[0], s[1] * 2)


def scaled_tanh(x, factor=1.0):
    return ops.multiply(ops.tanh(x), factor)


def test_lambda_keras_numbers_and_shapes():
    out = layers.Lambda(lambda x: x ** 2)(2 * np.ones((2, 3)))
    np.testing.assert_array_equal(np.asarray(out), 4 * np.ones((2, 3), np.float32))
    x = np.random.default_rng(0).normal(size=(2, 3))
    for layer in (layers.Lambda(stacker), layers.Lambda(stacker, output_shape=(6,)),
                  layers.Lambda(stacker, output_shape=stacker_shape)):
        assert layer.compute_output_shape((2, 3)) == (2, 6)
        assert layer(layers.Input((3,))).shape == (None, 6)
        assert_like_numpy(layer(x), np.concatenate([x, x], axis=1).astype(np.float32))
    assert layers.Lambda(ops.square)(layers.Input((3, 4))).shape == (None, 3, 4)
    assert layers.Lambda(ops.square, dtype="float64")(x).dtype == np.float64


def test_lambda_arguments_training_and_lists():
    x = np.random.default_rng(1).normal(size=(4, 3))
    assert_like_numpy(layers.Lambda(scaled_tanh, arguments={"factor": 3.0}, dtype="float64")(x), 3.0 * np.tanh(x))
    seen = []

    def fn(inputs, training=None):
        seen.append(training)
        return inputs

    layer = layers.Lambda(fn)
    layer(x, training=True)
    layer(x)
    assert seen[-2:] == [True, None]
    both = layers.Lambda(lambda xs: ops.subtract(xs[0], xs[1]))([layers.Input((3,)), layers.Input((3,))])
    assert both.shape == (None, 3)


def test_lambda_config_names_the_function_and_never_loads_code():
    layer = layers.Lambda(scaled_tanh, output_shape=stacker_shape, arguments={"factor": 2.0})
    config = layer.get_config()
    assert config["function"] == {"class_name": "function", "module": __name__, "config": "scaled_tanh"}
    assert config["output_shape"]["config"] == "stacker_shape" and config["arguments"] == {"factor": 2.0}
    assert "code" not in str(config)
    with pytest.raises(ValueError, match=r"never loads Python code.*custom_objects=\{'scaled_tanh'"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="stacker_shape"):
        layers.Lambda.from_config(config, custom_objects={"scaled_tanh": scaled_tanh})
    again = layers.Lambda.from_config(config, custom_objects={"scaled_tanh": scaled_tanh,
                                                              "stacker_shape": stacker_shape})
    assert again.function is scaled_tanh and again._output_shape is stacker_shape and again.arguments == {"factor": 2.0}
    # an anonymous lambda fails closed, as Keras' without safe_mode=False
    with pytest.raises(ValueError, match="<lambda>"):
        layers.Lambda.from_config(layers.Lambda(lambda x: x ** 2).get_config())
    # a config pointing at some module's function is refused: only pynn's own ops / activations resolve
    with pytest.raises(ValueError, match="not known"):
        layers.Lambda.from_config(dict(config, function={"class_name": "function", "module": "os", "config": "system"}))
    own = layers.Lambda.from_config(layers.Lambda(ops.square, output_shape=(3,)).get_config())
    assert own.function is ops.square and own._output_shape == (3,)
    np.testing.assert_array_equal(np.asarray(own(2 * np.ones((2, 3)))), 4 * np.ones((2, 3), np.float32))


def test_lambda_errors():
    with pytest.raises(TypeError, match="callable"):
        layers.Lambda(3)
    with pytest.raises(NotImplementedError, match="mask"):
        layers.Lambda(ops.square, mask=np.ones((2, 3)))
    with pytest.raises(TypeError, match="arguments"):
        layers.Lambda(ops.square, arguments=[1])
    with pytest.raises(ValueError, match="output_shape"):
        layers.Lambda(ops.square, output_shape=(-2,))
    with pytest.raises(NotImplementedError, match="give output_shape"):
        layers.Lambda(lambda x: ops.reshape(x, (7, 5)))(layers.Input((3,)))


def test_identity():
    x = np.random.default_rng(2).normal(size=(3, 1, 2))
    assert_like_numpy(layers.Identity(dtype="float64")(x), x)
    assert layers.Identity()(layers.Input((None, 2))).shape == (None, None, 2)
    layer = layers.Identity(name="id")
    assert layer.built and layer.weights == [] and layers.Identity.from_config(layer.get_config()).name == "id"
    pynn.utils.gradcheck(lambda t: ops.square(layers.Identity(dtype="float64")(t)), [x])


# ------------------------------------------------------------------------- models

def functional_model(**options):
    """A two-input model: a query vector against a set of keys (Dot), a Lambda and an Identity."""
    q, k = layers.Input((6,)), layers.Input(batch_shape=(None, 4, 6))
    hq = layers.Dense(6, activation="tanh")(q)
    scores = layers.Dot(axes=(1, 2))([hq, k])  # (batch, 4)
    cos = layers.Dot(axes=-1, normalize=True)([hq, layers.Lambda(lambda t: ops.mean(t, axis=1))(k)])  # (batch, 1)
    h = layers.concatenate([layers.Lambda(scaled_tanh, arguments={"factor": 2.0})(scores), cos])
    out = layers.Dense(3, activation="softmax")(layers.Identity()(h))
    m = pynn.Model([q, k], out)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
    return m


def model_data(n=70):
    rng = np.random.default_rng(4)
    q, k = rng.normal(size=(n, 6)).astype(np.float32), rng.normal(size=(n, 4, 6)).astype(np.float32)
    y = np.argmax(np.einsum("nd,nkd->nk", q, k)[:, :3], axis=1)
    return q, k, y


def test_functional_model_with_dot_lambda_identity_trains_captured_as_eager():
    q, k, y = model_data()

    def run(m):
        history = m.fit([q, k], y, batch_size=16, epochs=4, verbose=0).history
        return history, m.evaluate([q, k], y, batch_size=20, verbose=0), m.predict([q, k], batch_size=32, verbose=0)

    ((ha, ea, pa), a), ((hb, eb, pb), b) = captured_and_eager(functional_model, run)
    np.testing.assert_equal(ha, hb)
    np.testing.assert_equal(ea, eb)
    np.testing.assert_array_equal(pa, pb)
    assert_same_state(a, b)
    assert ha["loss"][-1] < ha["loss"][0]  # it learns


def test_dot_in_a_sequential_of_lambdas_trains_captured_as_eager():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(50, 3, 4)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.int64)

    def make(**options):
        m = pynn.Sequential([layers.Input(batch_shape=(None, 3, 4)),
                             layers.Lambda(lambda t: layers.dot([t, t], axes=2)),  # the Gram matrix per sample
                             layers.Flatten(), layers.Identity(), layers.Dense(2, activation="softmax")])
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", **options)
        return m

    (ha, a), (hb, b) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=16, epochs=3, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)
    assert a.layers[0].output_shape == (None, 3, 3)


def test_save_and_load_with_lambda_needs_the_function(tmp_path):
    pynn.random.seed(0)
    q, k, y = model_data(20)
    qi, ki = layers.Input((6,)), layers.Input(batch_shape=(None, 4, 6))
    h = layers.Lambda(scaled_tanh, arguments={"factor": 0.5})(layers.Dot(axes=(1, 2))([layers.Dense(6)(qi), ki]))
    out = layers.Dense(3, activation="softmax")(layers.Identity()(layers.concatenate([h, layers.Dot(-1, normalize=True)([h, layers.Dense(4)(qi)])])))
    m = pynn.Model([qi, ki], out)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit([q, k], y, epochs=1, verbose=0)
    path = tmp_path / "m.pynn"
    m.save(path)
    with pytest.raises(ValueError, match="scaled_tanh"):
        pynn.models.load_model(path)
    again = pynn.models.load_model(path, custom_objects={"scaled_tanh": scaled_tanh})
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in m.layers]
    np.testing.assert_array_equal(again.predict([q, k], verbose=0), m.predict([q, k], verbose=0))
    assert again.get_layer(index=0).batch_shape == (None, 6)
    assert [t.shape for t in again.inputs] == [(None, 6), (None, 4, 6)]
    # Model.from_config / Sequential.from_config hand custom_objects to the Lambda too
    rebuilt = pynn.Model.from_config(m.get_config(), custom_objects={"scaled_tanh": scaled_tanh})
    assert [type(l).__name__ for l in rebuilt.layers] == [type(l).__name__ for l in m.layers]
    seq = pynn.Sequential([layers.Input((2,)), layers.Lambda(scaled_tanh)])
    with pytest.raises(ValueError, match="scaled_tanh"):
        pynn.Sequential.from_config(seq.get_config())
    assert pynn.Sequential.from_config(seq.get_config(), {"scaled_tanh": scaled_tanh}).layers[0].function is scaled_tanh


# ------------------------------------------------------------------------- Sequential.pop, Input

def test_sequential_pop_as_keras():
    x = np.random.default_rng(7).normal(size=(3, 2))
    model = pynn.Sequential([layers.Input((2,)), layers.Dense(4), layers.Dense(5)])
    assert model(x).shape == (3, 5)
    assert [t.shape for t in model.inputs] == [(None, 2)] and [t.shape for t in model.outputs] == [(None, 5)]
    dense = model.layers[0]
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and popped.units == 5
    assert len(model.layers) == 1 and model.built and len(model.weights) == 2
    assert model(x).shape == (3, 4) and model.output_shape == (None, 4)
    assert [t.shape for t in model.outputs] == [(None, 4)]
    assert_like_numpy(model(x), np.asarray(dense(x)))
    # rebuild=False: unbuilt until the next call, which builds it again
    model.add(layers.Dense(7))
    model.pop(rebuild=False)
    assert not model.built and model(x).shape == (3, 4) and model.built
    assert model.pop() is dense and model.layers == [] and model.outputs is None
    with pytest.raises(ValueError, match="no layers"):
        model.pop()


def test_sequential_without_input_and_feature_extractor():
    x = np.random.default_rng(8).normal(size=(5, 3)).astype(np.float32)
    model = pynn.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    assert model.inputs is None and model.outputs is None  # no input shape yet
    full = np.asarray(model(x))
    assert model.outputs[0].shape == (None, 2)
    features = pynn.Model(model.inputs, model.layers[0](model.inputs[0]))
    assert_like_numpy(features(x), np.maximum(np.asarray(model.layers[0](x)), 0))
    model.pop()
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model.layers[0](x)))
    assert full.shape == (5, 2)


def test_pop_then_fit_trains():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 2, 40)
    model = pynn.Sequential([layers.Input((3,)), layers.Dense(8, activation="relu"), layers.Dense(2),
                             layers.Dense(5, activation="softmax")])
    model.pop()
    model.add(layers.Dense(2, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    assert model.predict(x, verbose=0).shape == (40, 2) and len(model.weights) == 6


def test_input_batch_shape_and_unsupported_options():
    assert layers.Input(batch_shape=(1, 3, 2)).shape == (1, 3, 2)
    assert layers.Input(batch_shape=(None, 3)).shape == (None, 3)
    assert layers.Input(shape=(3,), batch_size=4).shape == (4, 3)
    assert layers.Input(shape=(3,), sparse=False, optional=False).shape == (None, 3)
    layer = layers.InputLayer(batch_shape=(2, 5), dtype="int32", name="ids")
    config = layer.get_config()
    assert config == {"batch_shape": [2, 5], "dtype": "int32", "sparse": False, "name": "ids", "optional": False}
    assert layers.InputLayer.from_config(config).batch_shape == (2, 5)
    with pytest.raises(ValueError, match="both `shape` and `batch_shape`"):
        layers.Input(shape=(2,), batch_shape=(None, 2))
    with pytest.raises(ValueError, match="both `batch_size` and `batch_shape`"):
        layers.Input(batch_size=2, batch_shape=(None, 2))
    with pytest.raises(ValueError, match="batch_shape"):
        layers.Input(batch_shape=3)
    with pytest.raises(ValueError, match="batch size"):
        layers.Input(batch_shape=(-1, 3))
    with pytest.raises(ValueError, match="shape"):
        layers.Input()
    for kwargs, what in ((dict(optional=True), "optional=True"), (dict(sparse=True), "sparse=True"),
                         (dict(tensor=layers.Input((2,))), "tensor=")):
        with pytest.raises(NotImplementedError, match=what):
            layers.Input(shape=(2,), **kwargs)
