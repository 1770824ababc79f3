"""The compiled training step (Note [Compiled dense stack]) against the Python path it replaces.

Both paths call the same kernels on the same shapes, so fit, evaluate and
predict must give the same numbers, bit for bit; the Python path is itself
tested against NumPy (test_core_models.py, test_core_optim.py).
"""

import numpy as np
import pytest

import pynn
from pynn import _compiled, callbacks, layers, losses, optimizers


def data(n=300, dim=12, classes=4, seed=0, x_dtype=np.float32, zero_columns=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2, (classes, dim))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(0, 1.0, (n, dim))
    x[:, :zero_columns] = 0  # like an image's border (Note [Zero input columns])
    if x_dtype == np.uint8:
        x = np.clip(x * 20 + 128, 0, 255)
    return x.astype(x_dtype), y


def model(dim=12, classes=4, hidden=("relu", "tanh"), last="softmax", use_bias=True, dtype="float32",
          flatten_from=None, optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=("accuracy",),
          units=9):
    if loss == "sparse_categorical_crossentropy_from_logits":
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    pynn.random.seed(0)
    stack = [layers.Input(flatten_from or (dim,), dtype=dtype)]
    if flatten_from:
        stack.append(layers.Flatten(dtype=dtype))
    for i, act in enumerate(hidden):
        stack.append(layers.Dense(units + 4 * i, activation=act, use_bias=use_bias, dtype=dtype))
    stack.append(layers.Dense(classes, activation=last, use_bias=use_bias, dtype=dtype))
    m = pynn.Sequential(stack)
    m.compile(optimizer=optimizer() if callable(optimizer) else optimizer, loss=loss,
              metrics=list(metrics))
    return m


@pytest.fixture
def python_path(monkeypatch):
    """Call inside a test to send every later fit / evaluate / predict down the Python path."""
    def off():
        monkeypatch.setattr(_compiled, "for_model", lambda *args, **kwargs: None)
    return off


def both(make, run, python_path):
    """run(model) on a fresh model from make(), first compiled, then on the Python path (the
    shuffling generator reseeded alike); returns both results and both models."""
    a = make()
    assert _compiled._dense_layers(a) is not None, "the model should be one the compiled path covers"
    pynn.random.seed(7)
    ra = run(a)
    python_path()
    b = make()
    pynn.random.seed(7)
    rb = run(b)
    return (ra, a), (rb, b)


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


CASES = {
    "chapter2-rmsprop": dict(hidden=("relu",)),
    "relu-tanh-sigmoid-adam": dict(hidden=("relu", "tanh", "sigmoid"), optimizer="adam"),
    "linear-hidden-sgd-momentum": dict(hidden=("linear",), optimizer=lambda: optimizers.SGD(0.05, momentum=0.9)),
    "nesterov-no-bias": dict(use_bias=False, optimizer=lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    "adamw-decay-in-kernel": dict(optimizer=lambda: optimizers.AdamW(0.01, weight_decay=0.1)),
    "adagrad": dict(optimizer=lambda: optimizers.Adagrad(0.05)),
    "rmsprop-momentum": dict(optimizer=lambda: optimizers.RMSprop(0.002, momentum=0.5)),
    "from-logits": dict(last="linear", loss="sparse_categorical_crossentropy_from_logits"),
    "float64": dict(dtype="float64", optimizer="adam"),
    "no-metrics": dict(metrics=()),
    "no-hidden-layer": dict(hidden=()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_evaluate_predict_match_the_python_path(name, python_path):
    x, y = data()
    xv, yv = data(97, seed=1)
    kw = CASES[name]

    def run(m):
        h = m.fit(x, y, batch_size=64, epochs=3, verbose=0, validation_data=(xv, yv)).history
        return h, m.evaluate(xv, yv, batch_size=40, verbose=0), m.predict(xv, batch_size=40, verbose=0)

    ((ha, ea, pa), a), ((hb, eb, pb), b) = both(lambda: model(**kw), run, python_path)
    assert ha == hb
    assert ea == eb
    np.testing.assert_array_equal(pa, pb)
    assert_same_weights(a, b)
    assert a.optimizer.iterations == b.optimizer.iterations == 3 * 5
    # and it trained: the fit moved the weights and the loss went down
    assert ha["loss"][-1] < ha["loss"][0]


ZERO_COLUMN_OPTIMIZERS = {
    "rmsprop": "rmsprop", "sgd": lambda: optimizers.SGD(0.05), "sgd-momentum": lambda: optimizers.SGD(0.05, 0.9),
    "adagrad": lambda: optimizers.Adagrad(0.05), "adam": "adam",
    "rmsprop-momentum": lambda: optimizers.RMSprop(momentum=0.5),
    # epsilon 0: a weight whose gradient was always 0 becomes 0 / 0 = NaN, as Keras' formula says
    "rmsprop-eps0": lambda: optimizers.RMSprop(epsilon=0.0),
    "adagrad-eps0": lambda: optimizers.Adagrad(0.05, initial_accumulator_value=0.0, epsilon=0.0),
}


@pytest.mark.parametrize("name", sorted(ZERO_COLUMN_OPTIMIZERS))
def test_zero_input_columns_update_as_the_python_path(name, python_path):
    # The rows of the first kernel whose input column is zero in the batch get a zero gradient:
    # the compiled step updates them from a row of zeros instead of a full gradient (update_rows),
    # which must leave weights and slots as the Python path does, for every rule.
    x, y = data(n=256, dim=784, zero_columns=470)
    x[5, 100] = 1.0  # column 100 is kept in the first batch, left out in the second: its slots are not 0 there

    def run(m):
        return m.fit(x, y, batch_size=128, epochs=2, shuffle=False, verbose=0).history

    opt = ZERO_COLUMN_OPTIMIZERS[name]
    (ha, a), (hb, b) = both(lambda: model(dim=784, hidden=("relu",), units=64, optimizer=opt), run, python_path)
    assert_same_weights(a, b)  # NaN where the Python path has NaN (the eps0 cases)
    slots_a, slots_b = a.optimizer.variables(), b.optimizer.variables()
    assert len(slots_a) == len(slots_b)
    for sa, sb in zip(slots_a, slots_b):
        np.testing.assert_array_equal(np.asarray(sa), np.asarray(sb))
    if name.endswith("eps0"):
        assert np.isnan(a.layers[0].get_weights()[0][200:470]).all()
    else:
        assert ha == hb


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_input_columns_train_as_the_python_path(dtype, python_path):
    # 300 inputs of 784 "pixels", 60% of the columns zero in every sample: the first layer drops them
    # forward and computes only the kept rows of its weight gradient (Note [Zero input columns]).
    x, y = data(n=300, dim=784, zero_columns=470)
    x[::7, 100] = 0.5  # a column that is zero in most samples, but not in all

    def run(m):
        h = m.fit(x, y, batch_size=128, epochs=2, verbose=0).history
        return h, m.predict(x[:50], verbose=0)

    ((ha, pa), a), ((hb, pb), b) = both(lambda: model(dim=784, hidden=("relu",), dtype=dtype, units=64), run, python_path)
    assert ha == hb
    np.testing.assert_array_equal(pa, pb)
    assert_same_weights(a, b)
    w = a.layers[0].get_weights()[0]
    ref = model(dim=784, hidden=("relu",), dtype=dtype, units=64).layers[0].get_weights()[0]
    assert a._dense_stack[1] is not None  # (the compiled path ran: both() checked it covers the model)
    # the rows of never-seen pixels never moved; the others did
    np.testing.assert_array_equal(w[200:470], ref[200:470])
    assert not np.array_equal(w[470:], ref[470:]) and not np.array_equal(w[100], ref[100])


def test_non_finite_weights_still_reach_the_output(python_path):
    # 0 * inf is NaN: a zero column whose weight row holds inf must stay in the product, as in x @ W.
    x, y = data(n=128, dim=784, zero_columns=400)

    def run(m):
        m.layers[0].kernel.assign(np.where(np.arange(784)[:, None] == 3, np.inf, m.layers[0].get_weights()[0]))
        out = m.predict(x[:8], verbose=0)
        m.fit(x, y, batch_size=128, epochs=1, verbose=0)
        return out

    (pa, a), (pb, b) = both(lambda: model(dim=784, hidden=("relu",), units=64), run, python_path)
    assert np.isnan(pa).all()  # inf * 0 in every row, then relu and softmax of NaN
    np.testing.assert_array_equal(pa, pb)
    assert_same_weights(a, b)  # NaN where the Python path has NaN


@pytest.mark.parametrize("labels", ["int32", "uint8", "float32", "column", "one-hot", "one-hot-int"])
def test_targets_of_every_form(labels, python_path):
    x, y = data()
    loss = "sparse_categorical_crossentropy"
    if labels == "column":
        y = y.reshape(-1, 1)
    elif labels.startswith("one-hot"):
        y = np.eye(4, dtype=np.float32 if labels == "one-hot" else np.int64)[y]
        loss = "categorical_crossentropy"
    else:
        y = y.astype(labels)

    def run(m):
        return m.fit(x, y, batch_size=50, epochs=2, verbose=0).history, m.evaluate(x, y, verbose=0)

    (ra, a), (rb, b) = both(lambda: model(loss=loss), run, python_path)
    assert ra == rb
    assert_same_weights(a, b)


@pytest.mark.parametrize("x_dtype", [np.uint8, np.float64, np.int32])
def test_inputs_are_converted_while_gathered(x_dtype, python_path):
    x, y = data(x_dtype=x_dtype)
    x = x.reshape(-1, 3, 4)  # through a Flatten layer

    def run(m):
        h = m.fit(x, y, batch_size=32, epochs=2, verbose=0).history
        return h, m.predict(x[:10], verbose=0)

    ((ha, pa), a), ((hb, pb), b) = both(lambda: model(flatten_from=(3, 4)), run, python_path)
    assert ha == hb
    np.testing.assert_array_equal(pa, pb)
    assert_same_weights(a, b)


def test_strided_inputs_and_no_shuffle(python_path):
    x, y = data(n=200, dim=24)
    x = x[::-1, ::2]  # negative row stride, every other column

    def run(m):
        return m.fit(x, y, batch_size=30, epochs=2, shuffle=False, verbose=0).history

    (ha, a), (hb, b) = both(lambda: model(), run, python_path)
    assert ha == hb
    assert_same_weights(a, b)


def test_learning_rate_schedule_and_batch_logs_reach_the_compiled_step(python_path):
    x, y = data()
    seen = []

    def run(m):
        schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (1 + epoch))
        log = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
        return m.fit(x, y, batch_size=100, epochs=3, verbose=0, callbacks=[schedule, log]).history

    (ha, a), (hb, b) = both(lambda: model(), run, python_path)
    assert ha == hb and ha["learning_rate"] == [0.01, 0.005, 0.01 / 3]
    assert_same_weights(a, b)
    assert len(seen) == 2 * 9 and seen[:9] == seen[9:]  # the same per-batch logs on both paths


def test_weights_are_shared_with_the_stack():
    x, y = data()
    m = model()
    compiled = _compiled.for_model(m, x, y, training=True)
    assert compiled is not None
    before = [w.copy() for w in m.get_weights()]
    m.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, m.get_weights()))
    # set_weights writes in place: predict sees it through the cached stack
    m.set_weights(before)
    ref = pynn.Sequential([l for l in m.layers])  # same layers, called through the Python path
    with pynn.no_grad():
        expected = np.asarray(ref(pynn.from_numpy(x[:5])))
    np.testing.assert_array_equal(m.predict(x[:5], verbose=0), expected)
    assert m.get_weights()[0].tolist() == before[0].tolist()


class CustomStep(pynn.Sequential):
    def train_step(self, x, y):
        return super().train_step(x, y)


@pytest.mark.parametrize("change", [
    "dropout", "activation-layer", "clipnorm", "weight-decay-rmsprop", "mse", "label-smoothing",
    "softmax-read-as-logits", "linear-read-as-probabilities", "other-metric", "frozen-layer",
    "subclass-train-step", "functional", "bool-labels", "wrong-width"])
def test_models_it_does_not_cover_take_the_python_path(change):
    x, y = data()
    kw = {}
    if change == "clipnorm":
        kw["optimizer"] = optimizers.RMSprop(clipnorm=1.0)
    elif change == "weight-decay-rmsprop":
        kw["optimizer"] = optimizers.RMSprop(weight_decay=0.01)
    elif change == "mse":
        kw["loss"] = "mse"
    elif change == "label-smoothing":
        kw["loss"] = losses.CategoricalCrossentropy(label_smoothing=0.1)
        y = np.eye(4, dtype=np.float32)[y]
    elif change == "softmax-read-as-logits":
        kw["loss"] = losses.SparseCategoricalCrossentropy(from_logits=True)
    elif change == "linear-read-as-probabilities":
        kw["last"] = "linear"
    elif change == "other-metric":
        kw["metrics"] = ("accuracy", "mse")
    m = model(**kw)
    if change == "dropout":
        m = pynn.Sequential([layers.Input((12,)), layers.Dense(8, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(4, activation="softmax")])
    elif change == "activation-layer":
        m = pynn.Sequential([layers.Input((12,)), layers.Dense(8), layers.Activation("relu"),
                             layers.Dense(4, activation="softmax")])
    elif change == "subclass-train-step":
        m = CustomStep([layers.Input((12,)), layers.Dense(4, activation="softmax")])
    elif change == "functional":
        inp = layers.Input((12,))
        m = pynn.Model(inp, layers.Dense(4, activation="softmax")(inp))
    elif change == "frozen-layer":
        m.layers[0].trainable = False
    elif change == "bool-labels":
        y = y > 1
    elif change == "wrong-width":
        x = x[:, :10]
    if not getattr(m, "compiled", False):
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert _compiled.for_model(m, x, y, training=True) is None
    if change == "frozen-layer":  # inference does not care
        assert _compiled.for_model(m, x, y) is not None
        before = m.layers[0].get_weights()[0].copy()
        m.fit(x, y, epochs=1, verbose=0)
        np.testing.assert_array_equal(m.layers[0].get_weights()[0], before)


def test_bad_labels_and_shapes_raise_clear_errors():
    x, y = data()
    m = model()
    bad = y.copy()
    bad[5] = 4
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\), got values from 0 to 4"):
        m.fit(x, bad, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match=r"does not match the kernel"):  # the Python path's message
        m.fit(x[:, :10], y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="different numbers of samples"):
        m.evaluate(x, y[:-1], verbose=0)


def test_stack_checks_its_arguments():
    m = model()
    dense = m.layers
    kernels = [l.kernel for l in dense]
    biases = [l.bias for l in dense]
    acts = [pynn._core._Activation.relu, pynn._core._Activation.tanh, pynn._core._Activation.softmax]
    with pytest.raises(ValueError, match="does not follow kernel"):
        pynn._core._DenseStack(kernels[::-1], biases[::-1], acts)
    with pytest.raises(ValueError, match="softmax is supported only on the last layer"):
        pynn._core._DenseStack(kernels, biases, acts[::-1])
    stack = pynn._core._DenseStack(kernels, biases, acts)
    x = pynn.from_numpy(np.zeros((4, 12), np.float32))
    y = pynn.from_numpy(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="no optimizer set"):
        stack.train(x, y, None, 0, 4, [0.1])
    with pytest.raises(ValueError, match=r"rows \[2, 9\) out of range for 4 samples"):
        stack.evaluate(x, y, 2, 9)
    with pytest.raises(ValueError, match=r"slots must match"):
        stack.set_optimizer(pynn._core._OptimRule.rmsprop, [[pynn.zeros((3,))]] + [[] for _ in range(5)])
    with pytest.raises(ValueError, match=r"at most 1 slots"):
        stack.set_optimizer(pynn._core._OptimRule.adagrad, [[pynn.zeros_like(kernels[0])] * 2] + [[]] * 5)
    stack.set_optimizer(pynn._core._OptimRule.sgd, [[] for _ in range(6)])
    with pytest.raises(ValueError, match="expected 3 optimizer scalars, got 1"):
        stack.train(x, y, None, 0, 4, [0.1])
    order = pynn.from_numpy(np.array([0, 1, 7, 2], np.int64))
    with pytest.raises(ValueError, match="row 7 out of range for 4 samples"):
        stack.train(x, y, order, 0, 4, [0.1, 0.0, 0.0])
