"""Operators and slicing on symbolic tensors in functional models (Note [Symbolic operators] in
pynn/layers/base.py), summary's Keras 3 options, to_json / model_from_json."""

import json
import os

import numpy as np
import pytest

import pynn
from pynn import layers
from pynn.layers import Input
from pynn.models import Model, load_model, model_from_json
from pynn.utils import gradcheck

from oracle import assert_same_state, captured_and_eager

# name, the symbolic expression, its float64 NumPy oracle (x, y are the model's two inputs)
BINARY = [
    ("add", lambda x, y: x + y, lambda x, y: x + y),
    ("sub", lambda x, y: x - y, lambda x, y: x - y),
    ("mul", lambda x, y: x * y, lambda x, y: x * y),
    ("div", lambda x, y: x / (abs(y) + 0.5), lambda x, y: x / (np.abs(y) + 0.5)),
    ("scalar", lambda x, y: 2 * x - 3.5 + y * 2, lambda x, y: 2 * x - 3.5 + y * 2),
    ("reflected", lambda x, y: 1 - x + 3 / (y * y + 1), lambda x, y: 1 - x + 3 / (y * y + 1)),
    ("neg_pow", lambda x, y: -(x ** 2) + y ** 3, lambda x, y: -(x ** 2) + y ** 3),
    ("rpow", lambda x, y: 2 ** x, lambda x, y: 2.0 ** x),
    ("abs", lambda x, y: abs(x) * y, lambda x, y: np.abs(x) * y),
    ("pos", lambda x, y: +x, lambda x, y: x),
]
COMPARE = [
    ("lt", lambda x, y: x < y, lambda x, y: x < y),
    ("le", lambda x, y: x <= 0.25, lambda x, y: x <= 0.25),
    ("gt", lambda x, y: x > y, lambda x, y: x > y),
    ("ge", lambda x, y: 0.1 >= y, lambda x, y: 0.1 >= y),
    ("ne", lambda x, y: x != y, lambda x, y: x != y),
]


def _data(rng, shape, dtype):
    return rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,sym,ref", BINARY, ids=[b[0] for b in BINARY])
def test_operators_match_numpy(name, sym, ref, dtype):
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    for trial in range(4):
        feat = tuple(int(d) for d in rng.integers(1, 5, size=int(rng.integers(1, 3))))  # size-1 dims too
        x, y = Input(feat, dtype=dtype), Input(feat, dtype=dtype)
        out = sym(x, y)
        assert out.shape == (None,) + feat and out.dtype.name == dtype
        model = Model([x, y], out)
        n = int(rng.integers(1, 5))
        a, b = _data(rng, (n,) + feat, dtype), _data(rng, (n,) + feat, dtype)
        got = model([a, b]).numpy()
        assert got.dtype == np.dtype(dtype)
        want = ref(a.astype(np.float64), b.astype(np.float64))
        tol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,sym,ref", COMPARE, ids=[c[0] for c in COMPARE])
def test_comparisons_give_bool(name, sym, ref):
    rng = np.random.default_rng(3)
    x, y = Input((5,)), Input((5,))
    out = sym(x, y)
    assert out.dtype.name == "bool" and out.shape == (None, 5)
    a, b = _data(rng, (7, 5), "float32"), _data(rng, (7, 5), "float32")
    a[0] = b[0]  # ties
    got = Model([x, y], out)([a, b]).numpy()
    np.testing.assert_array_equal(got, ref(a, b))
    # a comparison used as a mask in a float expression, as in Keras
    masked = Model([x, y], x * (x > y))([a, b]).numpy()
    np.testing.assert_array_equal(masked, a * (a > b))


def test_matmul_and_list_constants():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(4, 3)).round(3).tolist()
    bias = [0.5, -1.0, 2.0]
    x = Input((4,))
    out = x @ w + bias
    assert out.shape == (None, 3) and out.dtype.name == "float32"
    x2 = Input((2, 3))
    out2 = [[1.0, 2.0]] @ x2  # reflected matmul: (1, 2) @ (batch, 2, 3)
    assert out2.shape == (None, 1, 3)
    a, a2 = _data(rng, (5, 4), "float32"), _data(rng, (5, 2, 3), "float32")
    got = Model(x, out)(a).numpy()
    np.testing.assert_allclose(got, a.astype(np.float64) @ np.array(w) + bias, rtol=1e-5, atol=1e-5)
    assert got.dtype == np.float32  # a list constant takes the float input's dtype, as Keras converts it
    np.testing.assert_allclose(Model(x2, out2)(a2).numpy(), np.array([[1.0, 2.0]]) @ a2.astype(np.float64),
                               rtol=1e-5, atol=1e-5)


def test_numpy_scalars_on_the_left_hand_back():
    x = Input((3,))
    out = np.float32(2) * x + np.int64(1)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(Model(x, out)(a).numpy(), 2 * a + 1)


KEYS = [
    (slice(None), slice(None, 2)), (Ellipsis, 0), (Ellipsis, -1), (slice(None), slice(None, None, -1)),
    (slice(None), None, slice(1, None)), (slice(None), 1, slice(None, None, 2)), 0, (slice(1, 3),),
    (Ellipsis, None), (slice(None), Ellipsis, slice(-2, None)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_slicing_matches_numpy(key, dtype):
    rng = np.random.default_rng(5)
    x = Input((3, 4), dtype=dtype)
    out = x[key]
    a = _data(rng, (4, 3, 4), dtype)
    want = a[key]
    # the symbolic shape: numpy's for the known dims, None where the batch dim survives
    shapes = {np.zeros((n, 3, 4))[key].shape for n in (1, 4, 5, 9)}
    sym = tuple(None if len(set(dims)) > 1 else dims[0] for dims in zip(*shapes))
    assert out.shape == sym
    got = Model(x, out)(a).numpy()
    np.testing.assert_array_equal(got, want)


def test_keras_functional_examples():
    # keras/src/models/functional_test.py: test_scalar_input
    input_a = Input(shape=(3,), batch_size=2, name="input_a")
    input_b = Input(shape=(), batch_size=2, name="input_b")
    outputs = input_a + input_b[:, None]
    model = Model([input_a, input_b], outputs)
    np.testing.assert_allclose(model([np.zeros((2, 3)), np.ones((2,))]).numpy(), np.ones((2, 3)))
    # test_input_dict_with_extra_field's graph: x * 5 + 2
    a = Input(shape=(3,), batch_size=2)
    model = Model(a, a * 5 + 2)
    v = np.random.default_rng(0).random((2, 3)).astype(np.float32)
    out = model(v).numpy()
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, v.astype(np.float64) * 5 + 2, rtol=1e-6)
    # test_dtype_standardization: an int input stays int through `+ 2`
    f, i = Input(shape=(2,)), Input(shape=(2,), dtype="int32")
    model = Model([f, i], [f + 2, i + 2])
    fo, io = model([np.ones((2, 2)), np.ones((2, 2))])
    assert fo.dtype == pynn.float32 and io.dtype == pynn.int32
    np.testing.assert_array_equal(io.numpy(), np.full((2, 2), 3))
    # multiple outputs from ops: o1 = i1 * 2
    i1 = Input((2,))
    np.testing.assert_allclose(Model(i1, i1 * 2)(np.ones((2, 2), np.float32)).numpy(), np.ones((2, 2)) * 2)


def test_gradients_through_operators_float64():
    x, y = Input((3,), dtype="float64"), Input((3,), dtype="float64")
    out = (x * y - 2 * x) / (y * y + 1) + abs(x + 0.3) ** 2 - x[:, :2].__matmul__([[1.0], [2.0]])
    model = Model([x, y], out)
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert gradcheck(lambda p, q: model([p, q]), [a, b])
    sl = Model(x, x[..., 1:] - x[:, None, 0])
    assert gradcheck(lambda p: sl(p), [a])


def _op_model(**options):
    x = Input((6,))
    h = layers.Dense(8, activation="relu")(x * 0.5 + 1)
    h = h[:, :5] * (h[:, 3:] + 2) - abs(h[..., 0:5]) / 4
    out = layers.Dense(3, activation="softmax")(h ** 2 - h)
    m = Model(x, out)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
    return m


def test_captured_fit_matches_eager():
    rng = np.random.default_rng(7)
    xs, y = rng.normal(size=(40, 6)).astype(np.float32), rng.integers(0, 3, size=(40,))
    ((ha, a), (hb, b)) = captured_and_eager(
        _op_model, lambda m: m.fit(xs, y, batch_size=8, epochs=3, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)
    assert ha["loss"][-1] < ha["loss"][0]


def test_save_load_and_config_round_trip(tmp_path):
    pynn.random.seed(1)
    m = _op_model()
    rng = np.random.default_rng(8)
    xs, y = rng.normal(size=(16, 6)).astype(np.float32), rng.integers(0, 3, size=(16,))
    m.fit(xs, y, batch_size=8, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "ops.pynn")
    m.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(xs, verbose=0), m.predict(xs, verbose=0))
    clone = Model.from_config(m.get_config())
    assert [l.name for l in clone.layers] == [l.name for l in m.layers]
    clone.set_weights(m.get_weights())
    np.testing.assert_array_equal(clone.predict(xs, verbose=0), m.predict(xs, verbose=0))
    ops_config = [l.get_config() for l in m.layers if type(l).__name__ == "OpLayer"]
    assert {c["op"] for c in ops_config} == {"multiply", "add", "get_item", "subtract", "absolute",
                                            "true_divide", "power"}
    json.dumps(ops_config)  # plain data
    sl = next(c for c in ops_config if c["op"] == "get_item")
    assert sl["key"] == [{"slice": [None, None, None]}, {"slice": [None, 5, None]}]


def test_to_json_round_trip():
    pynn.random.seed(2)
    m = _op_model()
    text = m.to_json(indent=2)
    data = json.loads(text)
    assert data["class_name"] == "Model" and data["build_config"]["input_shape"] == [None, 6]
    assert isinstance(data["config"]["layers"], list)
    again = model_from_json(text)
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in m.layers]
    again.set_weights(m.get_weights())
    a = np.random.default_rng(9).normal(size=(5, 6)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(a, verbose=0), m.predict(a, verbose=0))
    assert again.to_json() == m.to_json()
    # a Sequential model too, from bytes
    s = pynn.Sequential([Input((4,)), layers.Dense(3), layers.Dense(2)])
    s2 = model_from_json(s.to_json().encode())
    assert isinstance(s2, pynn.Sequential) and s2.count_params() == s.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_model_from_json_errors():
    with pytest.raises(ValueError, match="model_from_json: not valid JSON"):
        model_from_json("{nope")
    with pytest.raises(ValueError, match="class_name"):
        model_from_json("[1, 2]")
    with pytest.raises(ValueError, match="unknown layer class 'Evil'"):
        model_from_json(json.dumps({"class_name": "Evil", "config": {}}))
    with pytest.raises(ValueError, match="not a model"):
        model_from_json(json.dumps({"class_name": "Dense", "config": {"units": 2}}))
    with pytest.raises(TypeError, match="JSON string"):
        model_from_json(3)
    x = Input((3,))
    bad = json.loads(Model(x, x + 1).to_json())
    for layer in bad["config"]["layers"]:
        if layer["class_name"] == "OpLayer":
            layer["config"]["op"] = "__import__"
    with pytest.raises(ValueError, match="unknown op '__import__'"):
        model_from_json(json.dumps(bad))
    for layer in bad["config"]["layers"]:
        if layer["class_name"] == "OpLayer":
            layer["config"].update(op="add", operands=[None, [[1.0] * 100] * 100])
    with pytest.raises(ValueError, match="too large"):
        model_from_json(json.dumps(bad))
    for layer in bad["config"]["layers"]:
        if layer["class_name"] == "OpLayer":
            layer["config"].update(op="get_item", operands=[None], key=[{"slice": ["a", 1, 2]}])
    with pytest.raises(ValueError, match="bad index entry"):
        model_from_json(json.dumps(bad))


def test_symbolic_errors():
    x, y = Input((3,)), Input((4,))
    with pytest.raises(ValueError, match=r"add.*\(None, 3\), \(None, 4\)"):
        x + y
    with pytest.raises(ValueError, match="array or tensor constant"):
        x + np.ones(3)
    with pytest.raises(ValueError, match="array or tensor constant"):
        x * pynn.tensor(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="basic indexing"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="basic indexing"):
        x[:, np.array([0, 1])]
    with pytest.raises(IndexError, match=r"get_item.*\(None, 3\)"):
        x[:, 5]
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(x)
    with pytest.raises(TypeError, match="only numbers"):
        x + ["a", 1, 2]
    with pytest.raises(ValueError, match="too large"):
        x + [[0.0] * 3] * 2000
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        x % 2  # no mod op in pynn: Python's own TypeError
    with pytest.raises(ValueError, match="unknown op"):
        pynn.layers.base.OpLayer("eval")


def _lines(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return out


def test_summary_defaults_and_op_rows():
    x = Input((4,), name="inp")
    h = layers.Dense(3, name="d1")(x)
    m = Model(x, layers.Dense(2, name="d2")(h * 2)[:, :1])
    lines = _lines(m)
    assert lines[0] == 'Model: "' + m.name + '"'
    text = "\n".join(lines)
    assert "multiply" in text and "(Multiply)" in text and "(GetItem)" in text and "(None, 1)" in text
    assert " Total params: 23 (92.00 B)" in lines
    widths = {len(l) for l in lines[1:-3]}
    assert widths == {4 + 31 + 22 + 13 + 6}  # the table's default width is unchanged
    assert lines[2].startswith("┃ Layer (type)")
    wide = _lines(m, line_length=100)
    assert {len(l) for l in wide[1:-3]} == {100}


def test_summary_show_trainable_layer_range_expand_nested():
    x = Input((4,), name="inp")
    inner = pynn.Sequential([Input((4,)), layers.Dense(3, name="inner_dense"), layers.Dense(3, name="inner_2")],
                            name="inner")
    frozen = layers.Dense(2, name="frozen")
    frozen.trainable = False
    plus = inner(x) + 1
    m = Model(x, frozen(plus))
    add = plus.node.layer.name
    rows = _lines(m, show_trainable=True)
    assert "Trainable" in rows[2]
    row = {r.split()[1]: r for r in rows if r.startswith("│")}
    assert row["frozen"].split("│")[4].strip() == "N"
    assert row["inner"].split("│")[4].strip() == "Y"
    assert row[add].split("│")[4].strip() == "-" and row["inp"].split("│")[4].strip() == "-"
    assert " Trainable params: 27 (108.00 B)" in rows and " Non-trainable params: 8 (32.00 B)" in rows
    nested = "\n".join(_lines(m, expand_nested=True))
    assert "   └ inner_dense (Dense)" in nested and "   └ inner_2 (Dense)" in nested
    assert "inner_dense" not in "\n".join(_lines(m))
    part = _lines(m, layer_range=["inner$", add])
    names = [r.split()[1] for r in part if r.startswith("│")]
    assert names == ["inner", add]
    # reversed bounds: Keras takes the span between them
    assert [r.split()[1] for r in _lines(m, layer_range=[add, "inp"]) if r.startswith("│")] == ["inp", "inner", add]
    with pytest.raises(ValueError, match="matches no layer"):
        _lines(m, layer_range=["nope", add])
    with pytest.raises(ValueError, match="two"):
        _lines(m, layer_range=[add])
    with pytest.raises(ValueError, match="strings"):
        _lines(m, layer_range=[0, 1])


def test_summary_positions():
    x = Input((4,), name="inp")
    m = Model(x, layers.Dense(2, name="d")(x))
    lines = _lines(m, positions=[0.5, 0.75, 1.0], line_length=80)
    table = lines[1:-3]
    assert {len(l) for l in table} == {80 + 1}  # the edges at 40, 60 and 80, one border at the start
    top = lines[1]
    assert [i for i, c in enumerate(top) if c == "┳"] == [40, 60]
    assert _lines(m, positions=[40, 60, 80]) == lines  # absolute columns
    with pytest.raises(ValueError, match="narrower than 4"):
        _lines(m, positions=[0.5, 0.51, 1.0], line_length=80)
    with pytest.raises(ValueError, match="positions must list 3"):
        _lines(m, positions=[0.5, 1.0])
    with pytest.raises(TypeError, match="print_fn"):
        m.summary(print_fn=3)
