"""Captured steps (Note [Captured steps] in csrc/plan/plan.h) against the eager step they record.

A plan replays the same kernels on the same buffers, so fit, evaluate and predict
must give the same numbers as run_eagerly=True, bit for bit: history, weights,
optimizer slots and metrics. The eager path is itself tested against NumPy and
Keras' numbers elsewhere.
"""

import warnings

import numpy as np
import pytest

import pynn
from pynn import _capture, activations, callbacks, layers, losses, metrics, optimizers
from pynn.optimizers import schedules

from oracle import assert_same_state, captured_and_eager


def data(n=203, dim=12, classes=4, seed=0, dtype=np.float32):
    """Blobs, n not a multiple of the batch sizes used, so the last batch is partial."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(0, 2, (classes, dim))[y] + rng.normal(0, 1.0, (n, dim))
    return x.astype(dtype), y


def sequential(stack, dim=12, optimizer="rmsprop", loss="sparse_categorical_crossentropy", metric_list=("accuracy",),
               input_dtype="float32", input_shape=None):
    def make(**options):
        m = pynn.Sequential([layers.Input(input_shape or (dim,), dtype=input_dtype)] + stack())
        m.compile(optimizer=optimizer() if callable(optimizer) else optimizer, loss=loss,
                  metrics=list(metric_list), **options)
        return m
    return make


def fit_all(x, y, batch_size=32, epochs=3, **kwargs):
    """fit (with validation on a slice), evaluate and predict: every plan kind."""
    def run(m):
        history = m.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                        validation_data=(x[:50], y[:50]), **kwargs).history
        return history, m.evaluate(x, y, batch_size=20, verbose=0), m.predict(x, batch_size=24, verbose=0)
    return run


def check(make, run, **kwargs):
    ((ha, ea, pa), a), ((hb, eb, pb), b) = captured_and_eager(make, run, **kwargs)
    np.testing.assert_equal(ha, hb)  # NaN equals NaN here: a diverging run must diverge alike
    np.testing.assert_equal(ea, eb)
    np.testing.assert_array_equal(pa, pb)
    assert_same_state(a, b)
    return a


def dense_stack(*acts, units=9, classes=4, last="softmax", **kwargs):
    return lambda: [layers.Dense(units, activation=a, **kwargs) for a in acts] + \
        [layers.Dense(classes, activation=last, **kwargs)]


MODELS = {
    "chapter2-rmsprop": dict(stack=dense_stack("relu")),
    "relu-tanh-sigmoid-adam": dict(stack=dense_stack("relu", "tanh", "sigmoid"), optimizer="adam"),
    "sgd-momentum-linear": dict(stack=dense_stack("linear"), optimizer=lambda: optimizers.SGD(0.05, momentum=0.9)),
    "nesterov-no-bias": dict(stack=dense_stack("relu", use_bias=False),
                             optimizer=lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    "adamw": dict(stack=dense_stack("relu"), optimizer=lambda: optimizers.AdamW(0.01, weight_decay=0.1)),
    "adagrad": dict(stack=dense_stack("relu"), optimizer=lambda: optimizers.Adagrad(0.05)),
    "from-logits": dict(stack=dense_stack("relu", last=None),
                        loss=losses.SparseCategoricalCrossentropy(from_logits=True)),
    "float64": dict(stack=lambda: [layers.Dense(9, activation="relu", dtype="float64"),
                                   layers.Dense(4, activation="softmax", dtype="float64")],
                    input_dtype="float64", optimizer="adam"),
    "dropout-seeded": dict(stack=lambda: [layers.Dense(16, activation="relu"), layers.Dropout(0.4, seed=3),
                                          layers.Dense(4, activation="softmax")]),
    "dropout-global": dict(stack=lambda: [layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                                          layers.Dense(4, activation="softmax")], optimizer="adam"),
    "dropout-noise-shape": dict(stack=lambda: [layers.Dense(16, activation="relu"),
                                               layers.Dropout(0.3, noise_shape=(1, None)),
                                               layers.Dense(4, activation="softmax")]),
    "batchnorm": dict(stack=lambda: [layers.Dense(16), layers.BatchNormalization(), layers.ReLU(),
                                     layers.Dense(4, activation="softmax")], optimizer="adam"),
    "clipvalue-schedule": dict(stack=dense_stack("relu"), optimizer=lambda: optimizers.SGD(
        schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5), clipvalue=0.1)),
    "ema": dict(stack=dense_stack("relu"), optimizer=lambda: optimizers.Adam(0.01, use_ema=True)),
    "categorical-mae-metrics": dict(stack=dense_stack("tanh"), loss="mse", metric_list=("mae", "mse")),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_captured_fit_evaluate_predict_equal_eager(name):
    spec = dict(MODELS[name])
    make = sequential(spec.pop("stack"), **spec)
    x, y = data()
    if spec.get("loss") == "mse":
        y = np.eye(4, dtype=np.float32)[y]
    a = check(make, fit_all(x, y), modes=("train", "test", "predict"))
    paths = {(i["mode"], i["path"]) for i in a.plan_info()}
    assert ("train", "captured") in paths and ("test", "captured") in paths and ("predict", "captured") in paths


@pytest.mark.parametrize("act", [a for a in activations.__all__ if a not in ("get", "serialize", "glu", "threshold")])
def test_every_activation_captured_equals_eager(act):
    make = sequential(lambda: [layers.Dense(8, activation=act), layers.Activation(act if act != "softmax" else "relu"),
                               layers.Dense(4, activation="softmax")])
    x, y = data(n=96)
    check(make, fit_all(x, y, epochs=2))


def test_uint8_images_through_flatten():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (150, 6, 5), dtype=np.uint8)
    x[:, :, 0] = 0  # whole zero columns (Note [Zero input columns])
    y = rng.integers(0, 3, 150)
    make = sequential(lambda: [layers.Flatten(), layers.Dense(300, activation="relu"),
                               layers.Dense(3, activation="softmax")], input_dtype="uint8", input_shape=(6, 5))
    check(make, fit_all(x, y, batch_size=64))


class ElementwiseChain(layers.Layer):
    """A layer written as a chain of element-wise ops (transcendental ones too): what
    Note [Plan passes]' fuse_elementwise joins, forward and backward."""

    def call(self, inputs, training=None):
        ops = pynn.ops
        z = ops.add(ops.multiply(inputs, 0.5), 0.25)
        return ops.multiply(ops.tanh(ops.subtract(ops.exp(ops.multiply(z, 0.1)), 1.0)), ops.sigmoid(z))


def test_plan_passes_do_not_change_a_bit(monkeypatch):
    make = sequential(lambda: [layers.Dense(300, activation="relu"), ElementwiseChain(),
                               layers.Dense(9, activation="tanh"), layers.Dense(4, activation="softmax")],
                      optimizer="adam")
    x, y = data()
    runs, sizes = [], []
    for passes in (True, False):
        monkeypatch.setattr(_capture, "passes", passes)
        pynn.random.seed(0)
        m = make()
        pynn.random.seed(7)
        runs.append((m.fit(x, y, batch_size=32, epochs=3, verbose=0).history, m))
        ops = [op for e in m._plans.values() if e.plan is not None for op in e.plan.ops]
        # Note [Plan passes]: the six updates are one step, the element-wise chains fused steps.
        assert ("optimizer_update x6" in ops) == passes and (ops.count("optimizer_update") == 0) == passes
        assert any(op.startswith("fused(multiply,add") for op in ops) == passes
        sizes.append(sum(e.plan.plan.buffer_bytes for e in m._plans.values() if e.plan is not None))
    assert sizes[0] < sizes[1]  # share_scratch: the ops' scratch in one arena
    (ha, a), (hb, b) = runs
    assert ha == hb
    assert_same_state(a, b)
    with pynn.no_grad():  # and the eager forward gives the same bits as the fused replayed one
        np.testing.assert_array_equal(a.predict(x, batch_size=32, verbose=0), np.asarray(a(x)))


class TwoTowers(pynn.Model):
    """A subclassed model with two inputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left, self.right = layers.Dense(6, activation="relu"), layers.Dense(6, activation="tanh")
        self.head = layers.Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        a, b = inputs
        return self.head(pynn.ops.add(self.left(a), self.right(b)), training=training)


def test_subclassed_model_with_two_inputs():
    rng = np.random.default_rng(2)
    xa, xb = rng.normal(size=(90, 5)).astype(np.float32), rng.normal(size=(90, 7)).astype(np.float32)
    y = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0)

    def make(**options):
        m = TwoTowers()
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    def run(m):
        h = m.fit([xa, xb], y, batch_size=16, epochs=3, verbose=0).history
        return h, m.evaluate([xa, xb], y, verbose=0), m.predict([xa, xb], verbose=0)
    check(make, run)


def test_a_metric_that_computes_in_numpy_runs_after_each_replay():
    make = sequential(dense_stack("relu", classes=5), metric_list=("accuracy", metrics.SparseTopKCategoricalAccuracy(2)))
    x, y = data(classes=5)
    a = check(make, fit_all(x, y))
    train = [i for i in a.plan_info() if i["mode"] == "train" and i["path"] == "captured"]
    assert train and all(i["eager_metrics"] == ["sparse_top_k_categorical_accuracy"] for i in train)


def test_learning_rate_changed_by_a_callback_reaches_the_replayed_updates():
    make = sequential(dense_stack("relu"), optimizer=lambda: optimizers.SGD(0.1))
    x, y = data()
    halve = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    ((ha, _, _), a), ((hb, _, _), b) = captured_and_eager(make, fit_all(x, y, epochs=4, callbacks=[halve]))
    assert ha == hb and ha["learning_rate"][-1] == pytest.approx(0.1 / 16)
    assert_same_state(a, b)


def test_dropout_masks_follow_the_generator_across_fits():
    make = sequential(lambda: [layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                               layers.Dense(4, activation="softmax")])
    x, y = data()

    def run(m):
        out = []
        for s in (1, 2, 1):
            pynn.random.seed(s)
            out.append(m.fit(x, y, batch_size=32, epochs=2, verbose=0).history["loss"])
        return out, None, np.zeros(1)
    ((la, _, _), a), ((lb, _, _), b) = captured_and_eager(make, run)
    assert la == lb
    assert_same_state(a, b)


class NumpyInCall(layers.Layer):
    """A layer that reads its input's values in Python: a step that cannot be captured."""

    def call(self, inputs, training=None):
        return pynn.tensor(np.tanh(np.asarray(inputs)))


def _numpy_model(**options):
    m = pynn.Sequential([layers.Input((12,)), layers.Dense(8), NumpyInCall(), layers.Dense(4, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **options)
    return m


def test_jit_compile_true_names_what_cannot_be_captured():
    x, y = data(n=64)
    pynn.random.seed(0)
    m = _numpy_model(jit_compile=True)
    with pytest.raises(ValueError, match=r"jit_compile=True.*test_core_captured\.py:\d+ in call"):
        m.fit(x, y, batch_size=16, epochs=1, verbose=0)


def test_jit_compile_auto_warns_once_and_stays_eager():
    x, y = data(n=64)
    pynn.random.seed(0)
    m = _numpy_model()
    with pytest.warns(RuntimeWarning, match="runs eagerly, as it cannot be captured: Python reads the values") as w:
        first = m.fit(x, y, batch_size=16, epochs=3, verbose=0).history
    assert len([r for r in w if "train step" in str(r.message)]) == 1
    assert [i["path"] for i in m.plan_info() if i["mode"] == "train"] == ["eager"]
    assert "Python reads the values" in m.plan_info()[0]["reason"]
    pynn.random.seed(0)
    eager = _numpy_model(run_eagerly=True)
    assert eager.fit(x, y, batch_size=16, epochs=3, verbose=0).history == first


def test_random_numbers_drawn_in_python_refuse_the_capture():
    class Noise(layers.Layer):
        def call(self, inputs, training=None):
            return pynn.ops.add(inputs, pynn.random.normal(inputs.shape)) if training else inputs

    m = pynn.Sequential([layers.Input((12,)), Noise(), layers.Dense(4, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
    x, y = data(n=64)
    with pytest.raises(ValueError, match="pynn.random draws numbers in Python"):
        m.fit(x, y, batch_size=16, epochs=1, verbose=0)


@pytest.mark.parametrize("option", [dict(run_eagerly=True), dict(jit_compile=False)])
def test_run_eagerly_and_jit_compile_false_never_capture(option):
    m = sequential(dense_stack("relu"))(**option)
    x, y = data(n=64)
    m.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert {i["path"] for i in m.plan_info()} == {"eager"}


def test_compile_rejects_an_unknown_jit_compile():
    m = pynn.Sequential([layers.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="jit_compile must be 'auto', True or False"):
        m.compile(optimizer="sgd", loss="mse", jit_compile="xla")


def test_bad_labels_raise_in_a_replayed_step():
    m = sequential(dense_stack("relu"))()
    x, y = data(n=160)
    m.fit(x, y, batch_size=32, epochs=1, verbose=0)  # captured
    bad = y.copy()
    bad[100] = 7
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        m.fit(x, bad, batch_size=32, epochs=1, shuffle=False, verbose=0)


def test_thread_count_changes_between_replays():
    x, y = data()
    make = sequential(dense_stack("relu", units=64))
    threads = pynn.get_num_threads()
    try:
        runs = []
        for eager in (False, True):
            pynn.random.seed(0)
            m = make(run_eagerly=eager)
            pynn.set_num_threads(2)
            m.fit(x, y, batch_size=32, epochs=1, verbose=0)
            pynn.set_num_threads(1)
            runs.append((m.fit(x, y, batch_size=32, epochs=2, verbose=0).history, m))
        assert runs[0][0] == runs[1][0]
        assert_same_state(runs[0][1], runs[1][1])
    finally:
        pynn.set_num_threads(threads)


def test_new_weights_make_new_plans():
    x, y = data()
    m = sequential(dense_stack("relu"))()
    m.fit(x, y, batch_size=32, epochs=2, verbose=0)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert m.plan_info()[0]["path"] == "not run yet"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert {i["path"] for i in m.plan_info() if i["mode"] == "train"} == {"captured"}


def test_predict_of_an_uncompiled_model_is_captured():
    pynn.random.seed(0)
    m = pynn.Sequential([layers.Input((12,)), layers.Dense(5, activation="relu"), layers.Dense(2)])
    x, _ = data()
    first = m.predict(x, batch_size=16, verbose=0)
    again = m.predict(x, batch_size=16, verbose=0)
    np.testing.assert_array_equal(first, again)
    with pynn.no_grad():
        np.testing.assert_array_equal(first, np.asarray(m(x)))
    assert ("predict", "captured") in {(i["mode"], i["path"]) for i in m.plan_info()}


def test_functional_model_with_validation_split_and_frozen_layer():
    def make(**options):
        inputs = layers.Input((12,))
        hidden = layers.Dense(10, activation="relu", name="hidden")(inputs)
        outputs = layers.Dense(4, activation="softmax")(layers.Dropout(0.2)(hidden))
        m = pynn.Model(inputs, outputs)
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
        return m

    x, y = data()

    def run(m):
        first = m.fit(x, y, batch_size=32, epochs=2, validation_split=0.2, verbose=0).history
        m.get_layer("hidden").trainable = False  # new trainable variables: a new plan
        frozen = m.get_layer("hidden").get_weights()
        second = m.fit(x, y, batch_size=32, epochs=2, validation_split=0.2, verbose=0).history
        for a, b in zip(frozen, m.get_layer("hidden").get_weights()):
            np.testing.assert_array_equal(a, b)
        return (first, second), m.evaluate(x, y, verbose=0), m.predict(x, verbose=0)
    check(make, run)


def test_a_trained_model_pickles_and_keeps_training():
    import copy
    import pickle

    m = sequential(dense_stack("relu"))()
    x, y = data()
    m.fit(x, y, batch_size=32, epochs=2, verbose=0)
    clones = [pickle.loads(pickle.dumps(m)), copy.deepcopy(m)]
    for clone in clones:
        assert clone.plan_info()[0]["path"] == "not run yet"  # plans are a cache: not pickled
        assert [mt.result() for mt in clone.metrics] == [mt.result() for mt in m.metrics]
        for wa, wb in zip(m.get_weights(), clone.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)
    # An optimizer pickles as its configuration (Keras' rule): both clones restart it alike.
    histories = []
    for clone in clones:
        pynn.random.seed(3)
        histories.append(clone.fit(x, y, batch_size=32, epochs=2, verbose=0).history)
        assert ("train", "captured") in {(i["mode"], i["path"]) for i in clone.plan_info()}
    assert histories[0] == histories[1]
    assert_same_state(*clones)


# ---------------------------------------------------------------- sample and class weights

def _xent_rows(p, y):
    return -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1 - 1e-7))


def test_evaluate_weighs_the_loss_and_the_metrics_as_keras():
    m = sequential(dense_stack("relu"), metric_list=("accuracy",))()
    x, y = data(n=40)
    w = np.random.default_rng(1).uniform(0, 2, 40).astype(np.float32)
    p = m.predict(x, verbose=0)
    loss, acc = m.evaluate(x, y, sample_weight=w, batch_size=40, verbose=0)
    # Keras: sum(w * loss) / batch (sum_over_batch_size), accuracy sum(w * hit) / sum(w)
    np.testing.assert_allclose(loss, np.mean(w * _xent_rows(p.astype(np.float64), y)), rtol=1e-5)
    np.testing.assert_allclose(acc, np.sum(w * (p.argmax(1) == y)) / np.sum(w), rtol=1e-6)
    assert m.test_on_batch(x, y, sample_weight=w) == [loss, acc]
    # two batches: the loss tracker averages the batch losses weighted by batch size
    loss2, _ = m.evaluate(x, y, sample_weight=w, batch_size=32, verbose=0)
    rows = w * _xent_rows(p.astype(np.float64), y)
    np.testing.assert_allclose(loss2, (32 * rows[:32].mean() + 8 * rows[32:].mean()) / 40, rtol=1e-5)


def test_class_weight_is_sample_weight_by_class():
    x, y = data()
    cw = {0: 0.5, 1: 2.0, 3: 1.5}
    runs = []
    for kwargs in (dict(class_weight=cw), dict(sample_weight=np.array([cw.get(c, 1.0) for c in y]))):
        pynn.random.seed(0)
        m = sequential(dense_stack("relu"))()
        pynn.random.seed(7)
        runs.append((m.fit(x, y, batch_size=32, epochs=2, verbose=0, **kwargs).history, m))
    assert runs[0][0] == runs[1][0]
    assert_same_state(runs[0][1], runs[1][1])
    onehot = np.eye(4, dtype=np.float32)[y]  # one-hot targets: the argmax is the class
    pynn.random.seed(0)
    m = sequential(dense_stack("relu"), loss="categorical_crossentropy")()
    pynn.random.seed(7)
    weighted = m.fit(x, onehot, batch_size=32, epochs=1, verbose=0, class_weight=cw).history
    pynn.random.seed(0)
    m = sequential(dense_stack("relu"), loss="categorical_crossentropy")()
    pynn.random.seed(7)
    assert m.fit(x, onehot, batch_size=32, epochs=1, verbose=0,
                 sample_weight=np.array([cw.get(c, 1.0) for c in y])).history == weighted


def test_weighted_fit_captured_equals_eager():
    make = sequential(lambda: [layers.Dense(16, activation="relu"), layers.Dropout(0.2),
                               layers.Dense(4, activation="softmax")], optimizer="adam")
    x, y = data()
    w = np.random.default_rng(2).uniform(0, 3, len(x))

    def run(m):
        h = m.fit(x, y, batch_size=32, epochs=3, sample_weight=w, verbose=0,
                  validation_data=(x[:60], y[:60], w[:60])).history
        return h, m.evaluate(x, y, sample_weight=w, verbose=0), m.predict(x, verbose=0)
    check(make, run, modes=("train", "test"))


def test_weight_errors():
    m = sequential(dense_stack("relu"))()
    x, y = data(n=20)
    with pytest.raises(ValueError, match="cannot pass class_weight and sample_weight"):
        m.fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(20), verbose=0)
    with pytest.raises(ValueError, match="class_weight must map integer class indices"):
        m.fit(x, y, class_weight={"a": 1.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight must be a dict"):
        m.fit(x, y, class_weight=[1.0, 2.0], verbose=0)
    with pytest.raises(ValueError, match="sample_weight has 3 samples, y has 20"):
        m.evaluate(x, y, sample_weight=np.ones(3), verbose=0)
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        m.fit(x, y, validation_data=(x, y, None, None), verbose=0)


def test_strided_inputs_train_as_their_contiguous_copy():
    x, y = data(dim=24)
    strided = x[:, ::2]  # rows not one run of bytes: the gather copies them strided
    histories = []
    for xx in (strided, np.ascontiguousarray(strided)):
        pynn.random.seed(0)
        m = sequential(dense_stack("relu"))()
        for shuffle in (False, True):
            pynn.random.seed(3)
            histories.append(m.fit(xx, y, batch_size=32, epochs=2, shuffle=shuffle, verbose=0).history)
    assert histories[:2] == histories[2:]
