"""Models: Sequential, functional and subclassed; compile, fit, evaluate, predict against NumPy."""

import os

import numpy as np
import pytest

import pynn
from pynn import callbacks, layers, losses, optimizers

from oracle import assert_like_numpy

HAVE_DATA = bool(os.environ.get("PYNN_DATA")) and os.path.isdir(os.path.join(os.environ["PYNN_DATA"], "mnist"))


def blobs(n=400, classes=3, dim=4, seed=0):
    """Well separated Gaussian blobs: a problem any working training loop solves."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (classes, dim))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(0, 0.5, (n, dim))).astype(np.float32)
    return x, y


def mlp(dim=4, classes=3, hidden=16, dropout=None):
    stack = [layers.Input((dim,)), layers.Dense(hidden, activation="relu")]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(classes, activation="softmax"))
    return pynn.Sequential(stack)


# ---------------------------------------------------------------- building

def test_sequential_builds_from_input_and_input_shape():
    a = mlp()
    assert a.built and [l.output_shape for l in a.layers] == [(None, 16), (None, 3)]
    assert len(a.layers) == 2 and a.count_params() == 4 * 16 + 16 + 16 * 3 + 3
    b = pynn.Sequential([layers.Dense(5, input_shape=(7,)), layers.Dense(2)])
    assert b.built and b.output_shape == (None, 2) and b.count_params() == 7 * 5 + 5 + 5 * 2 + 2
    c = pynn.Sequential()
    c.add(layers.Dense(3))
    assert not c.built and c.weights == []
    c.add(layers.Dense(2))
    y = c(np.ones((4, 6), np.float32))
    assert y.shape == (4, 2) and c.built and c.count_params() == 6 * 3 + 3 + 3 * 2 + 2


def test_sequential_errors():
    with pytest.raises(TypeError, match="expected a layer"):
        pynn.Sequential([np.zeros(3)])
    with pytest.raises(ValueError, match="an Input can only come first"):
        pynn.Sequential([layers.Dense(2), layers.Input((3,))])
    with pytest.raises(ValueError, match="has no layers"):
        pynn.Sequential()(np.zeros((1, 2), np.float32))


def test_summary_table(capsys):
    model = mlp()
    model.summary()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f'Model: "{model.name}"'
    assert any(f"{model.layers[0].name} (Dense)" in l and "(None, 16)" in l and l.rstrip().endswith("80 │")
               for l in lines)
    assert " Total params: 131 (524.00 B)" in lines
    assert " Trainable params: 131 (524.00 B)" in lines and " Non-trainable params: 0 (0.00 B)" in lines
    big = pynn.Sequential([layers.Input((784,)), layers.Dense(512), layers.Dense(10)])
    printed = []
    big.summary(print_fn=printed.append)
    assert " Total params: 407,050 (1.55 MB)" in printed


def test_functional_model_matches_the_same_layers_called_directly():
    inputs = layers.Input(shape=(5,))
    h = layers.Dense(8, activation="tanh")(inputs)
    h = layers.BatchNormalization()(h)
    outputs = layers.Dense(2)(h)
    model = pynn.Model(inputs=inputs, outputs=outputs)
    assert model.built and model.output_shape == (None, 2) and len(model.layers) == 4
    x = np.random.default_rng(1).normal(size=(6, 5)).astype(np.float32)
    d1, bn, d2 = model.layers[1:]
    expected = np.asarray(d2(bn(d1(x))))
    assert_like_numpy(model(x), expected)
    assert_like_numpy(pynn.tensor(model.predict(x, verbose=0)), expected)


class AddLayer(layers.Layer):
    def call(self, inputs):
        return pynn.add(inputs[0], inputs[1])


def test_functional_two_inputs_two_outputs_and_shared_layer():
    a, b = layers.Input((3,)), layers.Input((3,))
    shared = layers.Dense(3, activation="relu")
    s = AddLayer()([shared(a), shared(b)])
    out1, out2 = layers.Dense(1)(s), layers.Dense(2)(s)
    model = pynn.Model([a, b], [out1, out2])
    assert len(model.trainable_weights) == 6
    xa, xb = np.ones((2, 3), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)
    y1, y2 = model([xa, xb])
    sum_ = np.asarray(shared(xa)) + np.asarray(shared(xb))
    assert_like_numpy(y1, np.asarray(model.layers[-2](sum_)) if model.layers[-2].units == 1
                      else np.asarray(model.layers[-1](sum_)))
    p1, p2 = model.predict([xa, xb], verbose=0)
    assert p1.shape == (2, 1) and p2.shape == (2, 2)
    model.compile(loss="mse")  # one loss for both outputs (tests/test_core_multi_output.py)
    logs = model.test_on_batch([xa, xb], [p1, p2], return_dict=True)
    assert logs["loss"] == 0 and len(logs) == 3


def test_functional_graph_errors():
    a, b = layers.Input((3,)), layers.Input((3,))
    y = AddLayer()([a, b])
    with pytest.raises(ValueError, match="graph disconnected"):
        pynn.Model(a, y)
    with pytest.raises(TypeError, match="symbolic tensors"):
        pynn.Model(np.zeros(3), y)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(a)


class TwoLayer(pynn.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(16, activation="relu")
        self.drop = layers.Dropout(0.1)
        self.out = layers.Dense(3, activation="softmax")

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))


def test_subclassed_model_tracks_layers_and_trains():
    pynn.random.seed(0)
    x, y = blobs()
    model = TwoLayer()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert len(model.trainable_weights) == 4 and [l.name for l in model.layers][0] == model.hidden.name
    assert history.history["accuracy"][-1] > 0.95
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


def test_base_model_without_call():
    with pytest.raises(NotImplementedError, match="define call"):
        pynn.Model()(np.zeros((1, 2), np.float32))


# ---------------------------------------------------------------- compile and fit

def test_fit_before_compile_raises():
    with pytest.raises(ValueError, match=r"You must call compile\(\) before fit\(\)"):
        mlp().fit(*blobs(), verbose=0)
    with pytest.raises(ValueError, match=r"before evaluate\(\)"):
        mlp().evaluate(*blobs(), verbose=0)


@pytest.mark.parametrize("loss, metric, encode", [
    ("sparse_categorical_crossentropy", "sparse_categorical_accuracy", lambda y: y),
    ("categorical_crossentropy", "categorical_accuracy", lambda y: np.eye(3, dtype=np.float32)[y]),
])
def test_fit_converges_and_accuracy_resolves_by_loss(loss, metric, encode):
    pynn.random.seed(1)
    x, y = blobs()
    model = mlp()
    model.compile(optimizer=optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
    assert type(model.metrics[0]).__name__ == "".join(p.title() for p in metric.split("_"))
    history = model.fit(x, encode(y), epochs=10, verbose=0)
    assert set(history.history) == {"loss", "accuracy"} and len(history.history["loss"]) == 10
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95
    assert history is model.history and history.epoch == list(range(10))


def test_fit_regression_with_mse():
    pynn.random.seed(2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3
    model = pynn.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse", metrics=["mse"])
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    kernel, bias = model.get_weights()
    assert_like_numpy(pynn.tensor(kernel), np.array([[1.0], [-2.0], [0.5]], np.float32), atol=1e-3)
    assert abs(bias[0] - 0.3) < 1e-3
    loss, mse = model.evaluate(x, y, verbose=0)
    assert loss < 1e-5 and loss == pytest.approx(mse, rel=1e-4, abs=1e-9)


def test_one_step_matches_numpy():
    """One SGD step of a softmax layer: the loss, the fused cross-entropy gradient and the update."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    model = pynn.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    W, b = [w.astype(np.float64) for w in model.get_weights()]
    z = x @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(8), y]).mean()
    dz = (p - np.eye(3)[y]) / 8
    got = model.train_on_batch(x, y)
    assert got == pytest.approx(loss, rel=1e-5)
    W2, b2 = model.get_weights()
    assert_like_numpy(pynn.tensor(W2), (W - 0.5 * x.T @ dz).astype(np.float32))
    assert_like_numpy(pynn.tensor(b2), (b - 0.5 * dz.sum(0)).astype(np.float32))


def test_softmax_output_uses_the_logits_for_the_loss():
    """A confidently wrong softmax output: Keras' clipped-probability formula would cap the
    loss at -log(1e-7) = 16.1; from the logits the loss is exact (as Keras on TensorFlow)."""
    model = pynn.Sequential([layers.Input((1,)), layers.Dense(2, activation="softmax",
                                                               kernel_initializer="zeros")])
    model.set_weights([np.array([[0.0, 0.0]], np.float32), np.array([0.0, 40.0], np.float32)])
    model.compile(loss="sparse_categorical_crossentropy")
    assert model.evaluate(np.zeros((2, 1), np.float32), np.zeros(2, np.int64), verbose=0) == pytest.approx(40.0)
    probs = model.predict(np.zeros((1, 1), np.float32), verbose=0)
    loss = losses.sparse_categorical_crossentropy(np.zeros(1, np.int64), probs)  # plain probabilities: clipped
    assert float(loss[0]) == pytest.approx(-np.log(1e-7), rel=1e-3)


def test_evaluate_predict_and_batches():
    pynn.random.seed(4)
    x, y = blobs(n=100)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    p = model.predict(x, verbose=0)
    assert isinstance(p, np.ndarray) and p.shape == (100, 3) and p.dtype == np.float32
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), p, rtol=1e-6, atol=1e-7)
    loss, acc = model.evaluate(x, y, batch_size=13, verbose=0)
    assert loss == pytest.approx(-np.log(p[np.arange(100), y]).mean(), rel=1e-5)
    assert acc == pytest.approx((p.argmax(1) == y).mean())
    assert model.evaluate(x, y, return_dict=True, verbose=0) == {"accuracy": pytest.approx(acc),
                                                                 "loss": pytest.approx(loss, rel=1e-5)}
    model.compile(loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert_like_numpy(pynn.tensor(model.predict(pynn.tensor(x), verbose=0)), p)  # Tensors are inputs too
    assert_like_numpy(pynn.tensor(model.predict_on_batch(x)), p)


def test_inputs_of_any_numeric_dtype():
    pynn.random.seed(5)
    x, y = blobs(n=64)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    ref = model.predict(x, verbose=0)
    for dtype in (np.float64, np.float16):
        np.testing.assert_allclose(model.predict(x.astype(dtype), verbose=0), ref, rtol=2e-3, atol=1e-3)
    raw = np.arange(64 * 4, dtype=np.uint8).reshape(64, 4)
    np.testing.assert_allclose(model.predict(raw, verbose=0), model.predict(raw.astype(np.float32), verbose=0))
    losses_ = [model.evaluate(x, y.astype(ydtype), verbose=0) for ydtype in (np.int32, np.uint8, np.int16, np.float32)]
    assert losses_ == [pytest.approx(losses_[0])] * 4
    assert model.evaluate(x, y[:, None], verbose=0) == pytest.approx(losses_[0])  # (batch, 1) labels
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        model.evaluate(x, np.full(64, 3), verbose=0)


def test_fit_argument_errors():
    x, y = blobs(n=20)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x and y have different numbers of samples: x \(20, 4\), y \(19,\)"):
        model.fit(x, y[:19], verbose=0)
    with pytest.raises(TypeError, match="must be numeric"):
        model.fit(x.astype(str), y, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be in"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="verbose must be"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="no samples"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="give a loss"):
        model.compile()
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(loss="nope")


def test_validation_split_takes_the_last_samples_before_shuffling():
    pynn.random.seed(6)
    x, y = blobs(n=200)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, validation_split=0.25, shuffle=True, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    val_loss, val_acc = model.evaluate(x[150:], y[150:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(val_acc)
    h2 = model.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    assert h2.history["val_loss"][-1] == pytest.approx(model.evaluate(x[:10], y[:10], verbose=0)[0], rel=1e-6)


def test_seed_makes_training_reproducible_and_shuffle_matters():
    x, y = blobs(n=120)

    def run(seed, shuffle):
        pynn.random.seed(seed)
        model = mlp(dropout=0.3)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, shuffle=shuffle, verbose=0)
        return model.get_weights()

    a, b = run(0, True), run(0, True)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    c = run(1, True)
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    # without shuffling only dropout differs between seeds; with the same seed the order changes the result
    d = run(0, False)
    assert not all(np.array_equal(u, v) for u, v in zip(a, d))


def test_train_and_test_on_batch():
    pynn.random.seed(7)
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)
    assert model.test_on_batch(x, y) == pytest.approx(before, rel=1e-6)
    loss, acc = model.train_on_batch(x, y)
    assert loss == pytest.approx(before[0], rel=1e-6)  # the loss before the update
    assert model.optimizer.iterations == 1
    assert model.test_on_batch(x, y)[0] < before[0]
    assert set(model.train_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}


# ---------------------------------------------------------------- callbacks inside fit

class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")
            return lambda *args: calls.append((name,) + tuple(a for a in args if not isinstance(a, dict)))
        return object.__getattribute__(self, name)


def test_callback_order_and_logs():
    x, y = blobs(n=10)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rec = Recorder()
    model.fit(x, y, epochs=2, batch_size=4, validation_split=0.2, callbacks=[rec], verbose=0)
    assert rec.calls == [
        ("on_train_begin",),
        ("on_epoch_begin", 0), ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1), ("on_epoch_end", 0),
        ("on_epoch_begin", 1), ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1), ("on_epoch_end", 1),
        ("on_train_end",),
    ]
    seen = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(sorted(logs)))
    model.fit(x, y, epochs=1, validation_split=0.2, callbacks=[cb], verbose=0)
    assert seen == [["accuracy", "loss", "val_accuracy", "val_loss"]]


def test_early_stopping_stops_and_restores_best_weights():
    pynn.random.seed(8)
    x, y = blobs(n=60)
    model = mlp()
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")  # nothing improves
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=1e-4)
    history = model.fit(x, y, epochs=50, callbacks=[stop], verbose=0)
    assert len(history.epoch) == 3 and stop.stopped_epoch == 2
    # learning, then diverging: the weights come back from the best epoch
    model.compile(optimizer=optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    snapshots = []
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)

    def diverge(epoch, logs):
        snapshots.append(model.get_weights())
        if epoch == 2:
            model.optimizer.learning_rate = 50.0  # ruins epoch 3 onwards

    history = model.fit(x, y, epochs=20, callbacks=[callbacks.LambdaCallback(on_epoch_end=diverge), stop],
                        verbose=0)
    losses_ = history.history["loss"]
    best = int(np.argmin(losses_))
    assert stop.stopped_epoch == len(losses_) - 1 < 19 and best == stop.best_epoch
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[best]))


def test_model_checkpoint_saves_best(tmp_path):
    pynn.random.seed(9)
    x, y = blobs(n=80)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    path = tmp_path / "ckpt" / "best.weights.npz"
    cb = callbacks.ModelCheckpoint(str(path), monitor="loss", save_best_only=True, save_weights_only=True)
    model.fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    fresh = mlp()
    fresh.load_weights(str(path))
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)  # the loss fell every epoch: the last epoch is the best


def test_stop_training_inside_an_epoch():
    x, y = blobs(n=64)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy")

    def stop(batch, logs):
        if batch == 2:
            model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                        callbacks=[callbacks.LambdaCallback(on_train_batch_end=stop)])
    assert history.epoch == [0] and model.optimizer.iterations == 3


# ---------------------------------------------------------------- progress output

def test_verbose_output(capsys):
    x, y = blobs(n=64)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, batch_size=16, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("4/4 - ") and "accuracy: " in out[1] and out[1].index("accuracy") < out[1].index("loss")
    model.fit(x, y, epochs=1, batch_size=16, verbose=1)  # not a terminal: one line; no "Epoch 1/1" (Keras 3)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("4/4 ━━━━━━━━━━━━━━━━━━━━ ") and "/step - accuracy: " in out[0]


# ---------------------------------------------------------------- the MNIST example

@pytest.mark.skipif(not HAVE_DATA, reason="set PYNN_DATA to a folder holding mnist/ (e.g. PYNN_DATA=../shared/data)")
def test_mnist_example_learns_on_a_subset():
    from pynn.examples import mnist

    model, loss, acc = mnist.run(epochs=2, batch_size=128, limit=6000, verbose=0)
    assert acc > 0.9, f"test accuracy {acc} after 2 epochs on 6000 samples"
    assert model.count_params() == 407050
