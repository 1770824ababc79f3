"""Models with several outputs (Note [Several outputs] in pynn/models.py): compile with a loss,
loss weight, metrics and weighted metrics per output, targets as lists or dicts, Keras 3's log
names and order, against Keras' stated numbers (compile_utils_test.py), NumPy float64 totals,
and the eager step as the oracle of the captured one."""

import sys
from pathlib import Path

import numpy as np
import pytest

import pynn
from pynn import layers, metrics

from oracle import assert_same_state, captured_and_eager

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import two_outputs  # noqa: E402


def identity_model(dims, names, dtype="float32"):
    """Outputs equal to the inputs, named: the predictions are whatever x is."""
    inputs = [pynn.Input(shape=(d,), dtype=dtype) for d in dims]
    outputs = [layers.Identity(name=n)(i) for i, n in zip(inputs, names)]
    return pynn.Model(inputs, outputs)


# Keras 3's compile_utils_test.py data (test_single_output_case, test_dict_output_case).
Y1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
P1 = [np.array([[0.4, 0.1], [0.2, 0.6], [0.6, 0.1]]), np.array([[0.3, 0.2], [0.1, 0.4], [0.2, 0.3]])]
Y2 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
P2 = [np.array([[0.4, 0.1, 0.3], [0.2, 0.6, 0.4], [0.6, 0.1, 0.8]]),
      np.array([[0.3, 0.2, 0.1], [0.5, 0.4, 0.6], [0.1, 0.8, 0.7]])]
SW = np.array([1, 0.0, 1])


def test_keras_dict_output_case_metric_names_and_values():
    model = identity_model([2, 3], ["output_1", "output_2"], "float64")
    per_output = lambda: [metrics.MeanSquaredError(), metrics.MeanSquaredError(name="mse")]  # noqa: E731
    model.compile(loss="mse", metrics={"output_1": per_output(), "output_2": per_output()},
                  weighted_metrics={"output_1": per_output(), "output_2": per_output()})
    x = [np.concatenate(P1), np.concatenate(P2)]  # two batches of 3: the two updates of Keras' test
    y = {"output_1": np.concatenate([Y1, Y1]), "output_2": np.concatenate([Y2, Y2])}
    logs = model.evaluate(x, y, sample_weight=np.concatenate([SW, SW]), batch_size=3, verbose=0, return_dict=True)
    expected = {"output_1_mean_squared_error": 0.055833336, "output_2_mean_squared_error": 0.066666667,
                "output_1_mse": 0.055833336, "output_2_mse": 0.066666667,
                "output_1_weighted_mean_squared_error": 0.0725, "output_2_weighted_mean_squared_error": 0.090833336,
                "output_1_weighted_mse": 0.0725, "output_2_weighted_mse": 0.090833336}
    assert set(logs) == set(expected) | {"loss", "output_1_loss", "output_2_loss"}
    for k, v in expected.items():
        np.testing.assert_allclose(logs[k], v, rtol=1e-6, err_msg=k)
    # The per-output losses: Keras' sum_over_batch_size with the weights, unweighted by loss_weights.
    per_batch = [[(SW * ((p - yt) ** 2).mean(axis=1)).sum() / 3 for p in ps] for ps, yt in ((P1, Y1), (P2, Y2))]
    np.testing.assert_allclose(logs["output_1_loss"], np.mean(per_batch[0]), rtol=1e-6)
    np.testing.assert_allclose(logs["output_2_loss"], np.mean(per_batch[1]), rtol=1e-6)
    np.testing.assert_allclose(logs["loss"], np.mean(per_batch[0]) + np.mean(per_batch[1]), rtol=1e-6)
    # evaluate's list: loss, the metrics output by output (metrics, then weighted), the per-output losses.
    values = model.evaluate(x, y, sample_weight=np.concatenate([SW, SW]), batch_size=3, verbose=0)
    names = ["loss", "output_1_mean_squared_error", "output_1_mse", "output_2_mean_squared_error", "output_2_mse",
             "output_1_weighted_mean_squared_error", "output_1_weighted_mse", "output_2_weighted_mean_squared_error",
             "output_2_weighted_mse", "output_1_loss", "output_2_loss"]
    assert model.metrics_names == names
    assert values == [logs[n] for n in names]


def test_keras_single_output_weighted_metric_name():
    model = identity_model([2], ["out"], "float64")
    model = pynn.Model(model.inputs[0], model.outputs[0])
    model.compile(loss="mse", metrics=[metrics.MeanSquaredError()], weighted_metrics=[metrics.MeanSquaredError()])
    logs = model.evaluate(np.concatenate(P1), np.concatenate([Y1, Y1]), sample_weight=np.concatenate([SW, SW]),
                          batch_size=3, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "mean_squared_error", "weighted_mean_squared_error"}
    np.testing.assert_allclose(logs["weighted_mean_squared_error"], 0.0725, rtol=1e-6)


def test_keras_list_loss_dict_data():
    """compile_utils_test.test_list_loss_dict_data: loss ["mse", "mae"] for outputs ["b", "a"],
    targets as a dict: 1.07666."""
    model = identity_model([2, 2], ["b", "a"], "float64")
    model.compile(loss=["mse", "mae"])
    y = {"a": np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]), "b": np.array([[0.7, 0.8], [0.9, 1.0], [1.1, 1.2]])}
    pred = {"a": np.array([[1.2, 1.1], [1.0, 0.9], [0.8, 0.7]]), "b": np.array([[0.6, 0.5], [0.4, 0.3], [0.2, 0.1]])}
    logs = model.evaluate([pred["b"], pred["a"]], y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], 1.07666, atol=1e-5)
    np.testing.assert_allclose(logs["b_loss"], ((pred["b"] - y["b"]) ** 2).mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["a_loss"], np.abs(pred["a"] - y["a"]).mean(), rtol=1e-6)
    assert set(logs) == {"loss", "a_loss", "b_loss"}


def test_keras_struct_loss_valid_weights():
    """compile_utils_test.test_struct_loss_valid_weights: weights 1 and 0 give a total of 4, the
    trackers still report the unweighted losses (4 and 4)."""
    model = identity_model([1, 1], ["a", "b"], "float64")
    model.compile(loss={"a": "mse", "b": "mse"}, loss_weights={"a": 1.0, "b": 0.0})
    y = {"a": np.array([[1.0], [2.0]]), "b": np.array([[1.0], [2.0]])}
    logs = model.evaluate([np.array([[3.0], [4.0]])] * 2, y, verbose=0, return_dict=True)
    assert logs == {"loss": 4.0, "a_loss": 4.0, "b_loss": 4.0}


def two_output_model(loss_weights=(0.3, 1.7), style="list", metric_style="list", **options):
    pynn.random.seed(0)
    a, b = pynn.Input(shape=(5,), name="a"), pynn.Input(shape=(3,), name="b")
    h = layers.Dense(6, activation="tanh")(layers.Concatenate()([a, b]))
    reg = layers.Dense(2, name="reg")(h)
    cls = layers.Dense(4, activation="softmax", name="cls")(h)
    model = pynn.Model([a, b], [reg, cls])
    if style == "list":
        loss = ["mse", "sparse_categorical_crossentropy"]
        weights = None if loss_weights is None else list(loss_weights)
    else:
        loss = {"cls": "sparse_categorical_crossentropy", "reg": "mse"}
        weights = None if loss_weights is None else {"reg": loss_weights[0], "cls": loss_weights[1]}
    m = [["mae"], ["accuracy"]] if metric_style == "list" else {"cls": "accuracy", "reg": ["mae", "mse"]}
    model.compile(optimizer="adam", loss=loss, loss_weights=weights, metrics=m, **options)
    return model


def generated(n=45, seed=1):
    rng = np.random.default_rng(seed)
    xa, xb = rng.normal(size=(n, 5)).astype("float32"), rng.normal(size=(n, 3)).astype("float32")
    return [xa, xb], [rng.normal(size=(n, 2)).astype("float32"), rng.integers(0, 4, n)]


@pytest.mark.parametrize("loss_weights", [None, (0.3, 1.7), (2.0, 0.0)])
def test_total_loss_is_the_weighted_sum_by_hand(loss_weights):
    model = two_output_model(loss_weights)
    x, (y1, y2) = generated()
    p1, p2 = (p.astype(np.float64) for p in model.predict(x, verbose=0))
    mse = ((p1 - y1) ** 2).mean()
    ce = -np.log(np.clip(p2[np.arange(len(y2)), y2], 1e-7, 1)).mean()
    w1, w2 = loss_weights or (1.0, 1.0)
    logs = model.train_on_batch(x, [y1, y2], return_dict=True)  # the loss before the update
    np.testing.assert_allclose(logs["reg_loss"], mse, rtol=2e-5)
    np.testing.assert_allclose(logs["cls_loss"], ce, rtol=2e-5)
    np.testing.assert_allclose(logs["loss"], w1 * mse + w2 * ce, rtol=2e-5)
    np.testing.assert_allclose(logs["reg_mae"], np.abs(p1 - y1).mean(), rtol=2e-5)
    np.testing.assert_allclose(logs["cls_accuracy"], (p2.argmax(1) == y2).mean(), rtol=1e-6)
    assert sorted(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]


def test_history_keys_and_list_dict_agree():
    x, (y1, y2) = generated()
    runs = []
    for style, metric_style, y in (("list", "list", [y1, y2]), ("dict", "list", {"reg": y1, "cls": y2}),
                                   ("list", "list", (y1, y2))):
        model = two_output_model(style=style, metric_style=metric_style)
        pynn.random.seed(3)
        h = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0)
        runs.append(h.history)
    assert sorted(runs[0]) == sorted(["loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy", "val_loss",
                                      "val_reg_loss", "val_cls_loss", "val_reg_mae", "val_cls_accuracy"])
    assert runs[0] == runs[1] == runs[2]


def test_dict_metrics_and_one_loss_for_all():
    x, (y1, _) = generated()
    a = pynn.Input(shape=(5,))
    o1, o2 = layers.Dense(2, name="p")(a), layers.Dense(2, name="q")(a)
    model = pynn.Model(a, [o1, o2])
    model.compile(loss="mse", metrics={"q": ["mae", "mse"]})
    logs = model.evaluate(x[0], [y1, 2 * y1], verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "p_loss", "q_loss", "q_mae", "q_mse"]
    p, q = (v.astype(np.float64) for v in model.predict(x[0], verbose=0))
    np.testing.assert_allclose(logs["p_loss"], ((p - y1) ** 2).mean(), rtol=2e-5)
    np.testing.assert_allclose(logs["q_mse"], ((q - 2 * y1) ** 2).mean(), rtol=2e-5)
    np.testing.assert_allclose(logs["loss"], logs["p_loss"] + logs["q_loss"], rtol=1e-6)


def test_an_output_without_a_loss():
    """A loss dict without an output's name: that output has no loss; with one loss left there
    are no per-output trackers (Keras adds them for two or more losses)."""
    x, (y1, _) = generated()
    a = pynn.Input(shape=(5,))
    model = pynn.Model(a, [layers.Dense(2, name="p")(a), layers.Dense(2, name="q")(a)])
    model.compile(loss={"p": "mse"}, metrics={"q": "mae"})
    logs = model.evaluate(x[0], [y1, y1], verbose=0, return_dict=True)
    p, q = (v.astype(np.float64) for v in model.predict(x[0], verbose=0))
    assert sorted(logs) == ["loss", "q_mae"]
    np.testing.assert_allclose(logs["loss"], ((p - y1) ** 2).mean(), rtol=2e-5)
    np.testing.assert_allclose(logs["q_mae"], np.abs(q - y1).mean(), rtol=2e-5)


@pytest.mark.parametrize("style", ["list", "dict"])
def test_captured_equals_eager(style):
    x, (y1, y2) = generated(n=53)
    y = [y1, y2] if style == "list" else {"cls": y2, "reg": y1}
    sw = np.random.default_rng(5).uniform(0.5, 2.0, len(y1)).astype("float32")

    def run(model):
        h = model.fit(x, y, sample_weight=sw, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
        ev = model.evaluate(x, y, batch_size=16, verbose=0)
        return h.history, ev, model.predict(x, batch_size=16, verbose=0)

    make = lambda **o: two_output_model(style=style, metric_style="dict", weighted_metrics=[["mse"], ["accuracy"]],  # noqa: E731
                                        **o)
    (got, captured), (want, eager) = captured_and_eager(make, run, modes=("train", "test", "predict"))
    assert got[0] == want[0] and got[1] == want[1]
    for a, b in zip(got[2], want[2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert_same_state(captured, eager)
    # "mse" both a metric and a weighted metric of reg: Keras names the weighted one "reg_weighted_mse".
    assert {"reg_mse", "reg_weighted_mse", "val_reg_mse", "val_reg_weighted_mse"} <= set(got[0])
    assert "cls_weighted_accuracy" in got[0] and "cls_accuracy" in got[0]


def test_predict_and_pipelines_keep_the_structure():
    x, (y1, y2) = generated(n=40)
    model = two_output_model()

    def batches():
        for i in range(0, 40, 10):
            yield [x[0][i:i + 10], x[1][i:i + 10]], {"reg": y1[i:i + 10], "cls": y2[i:i + 10]}

    h = model.fit(batches(), epochs=1, verbose=0)
    assert sorted(h.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]
    out = model.predict(x, verbose=0)
    assert isinstance(out, list) and [o.shape for o in out] == [(40, 2), (40, 4)]
    ev = model.evaluate(x, [y1, y2], verbose=0, return_dict=True)  # two batches, weighted by their sizes
    one = model.test_on_batch(x, [y1, y2], return_dict=True)
    assert list(ev) == list(one)
    np.testing.assert_allclose(list(ev.values()), list(one.values()), rtol=1e-5)


def test_weighted_metrics_take_the_sample_weights_and_metrics_do_not():
    x, (y1, y2) = generated()
    model = two_output_model(weighted_metrics={"reg": "mse"}, metric_style="dict")
    sw = np.random.default_rng(2).uniform(0, 3, len(y1))
    logs = model.evaluate(x, [y1, y2], sample_weight=sw, batch_size=len(y1), verbose=0, return_dict=True)
    p1 = model.predict(x, verbose=0)[0].astype(np.float64)
    err = ((p1 - y1) ** 2).mean(axis=1)
    np.testing.assert_allclose(logs["reg_mse"], err.mean(), rtol=2e-5)
    np.testing.assert_allclose(logs["reg_weighted_mse"], (sw * err).sum() / sw.sum(), rtol=2e-5)
    np.testing.assert_allclose(logs["reg_loss"], (sw * err).sum() / len(sw), rtol=2e-5)  # sum_over_batch_size


def test_errors_name_the_outputs():
    x, (y1, y2) = generated()
    model = two_output_model()
    with pytest.raises(ValueError, match=r"2 outputs \['reg', 'cls'\]"):
        model.fit(x, y1, verbose=0)
    with pytest.raises(ValueError, match=r"\['reg', 'cls'\]; y has 3 entries"):
        model.fit(x, [y1, y2, y2], verbose=0)
    with pytest.raises(ValueError, match="unknown: \\['bad'\\]"):
        model.evaluate(x, {"reg": y1, "bad": y2}, verbose=0)
    with pytest.raises(ValueError, match="missing: \\['cls'\\]"):
        model.train_on_batch(x, {"reg": y1})
    with pytest.raises(ValueError, match="different numbers of samples"):
        model.fit(x, [y1, y2[:-1]], verbose=0)
    with pytest.raises(ValueError, match="class_weight is only supported for models with a single output"):
        model.fit(x, [y1, y2], class_weight={0: 1.0}, verbose=0)
    with pytest.raises(NotImplementedError, match="sample_weight per output"):
        model.fit(x, [y1, y2], sample_weight=[np.ones(len(y1)), np.ones(len(y1))], verbose=0)
    with pytest.raises(NotImplementedError, match="sample_weight per output"):
        model.fit(x, [y1, y2], sample_weight={"reg": np.ones(len(y1))}, verbose=0)
    with pytest.raises(ValueError, match="sample_weight has 3 samples"):
        model.fit(x, [y1, y2], sample_weight=np.ones(3), verbose=0)
    for kwargs, message in [
        ({"loss": ["mse"]}, r"loss must have one entry per output \['reg', 'cls'\]"),
        ({"loss": {"reg": "mse", "nope": "mse"}}, r"\['nope'\] that are not output names; the outputs are "
                                                   r"\['reg', 'cls'\]"),
        ({"loss": {}}, "gives no output"),
        ({"loss": "mse", "loss_weights": [1.0]}, "loss_weights must have one entry per output"),
        ({"loss": "mse", "loss_weights": {"zzz": 1.0}}, "not output names"),
        ({"loss": "mse", "loss_weights": 2.0}, "loss_weights must be a list or a dict"),
        ({"loss": "mse", "loss_weights": ["a", 1]}, "loss_weights must be numbers"),
        ({"loss": "mse", "metrics": ["mae"]}, r"metrics for a model with outputs \['reg', 'cls'\]"),
        ({"loss": "mse", "metrics": {"other": "mae"}}, "not output names"),
        ({"loss": "mse", "weighted_metrics": ["mae", "mae", "mae"]}, "weighted_metrics for a model"),
    ]:
        with pytest.raises(ValueError, match=message):
            model.compile(**kwargs)
    m = metrics.MeanSquaredError()
    with pytest.raises(ValueError, match="given twice"):
        model.compile(loss="mse", metrics=[[m], [m]])


def test_same_layer_name_twice_is_refused():
    a = pynn.Input(shape=(2,))
    d = layers.Dense(1)
    model = pynn.Model(a, [d(a), d(a)])
    with pytest.raises(ValueError, match="different names"):
        model.compile(loss="mse")


def test_the_example_on_generated_data():
    results = {}
    for style in ("list", "dict"):
        model, history, results[style] = two_outputs.train(style, epochs=4)
        assert sorted(history.history) == sorted(["loss", "score_loss", "topic_loss", "score_mae", "topic_accuracy"]
                                                 + ["val_" + k for k in ("loss", "score_loss", "topic_loss",
                                                                          "score_mae", "topic_accuracy")])
        losses = history.history["loss"]
        assert losses[-1] < losses[0]
        np.testing.assert_allclose(results[style]["loss"],
                                   0.25 * results[style]["score_loss"] + results[style]["topic_loss"], rtol=1e-5)
        assert {info["path"] for info in model.plan_info() if info["mode"] == "train"} <= {"captured", "pending"}
    assert results["list"] == results["dict"]


def test_one_output_named_in_dicts_and_loss_weight():
    a = pynn.Input(shape=(3,))
    model = pynn.Model(a, layers.Dense(2, name="o")(a))
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    y = np.zeros((6, 2), "float32")
    model.compile(loss={"o": "mse"}, loss_weights={"o": 2.5}, metrics={"o": ["mae"]})
    p = model.predict(x, verbose=0).astype(np.float64)
    logs = model.test_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(logs["loss"], 2.5 * (p ** 2).mean(), rtol=2e-5)
    np.testing.assert_allclose(logs["mean_absolute_error"], np.abs(p).mean(), rtol=2e-5)
    with pytest.raises(ValueError, match=r"\['x'\] that are not output names; the output is \['o'\]"):
        model.compile(loss={"x": "mse"})
    with pytest.raises(ValueError, match="give a loss"):
        model.compile(loss={})


def keras_list_model():
    """model_test._get_model_multi_outputs_list."""
    x = pynn.Input(shape=(3,), name="input_a")
    return pynn.Model(x, [layers.Dense(1, name="output_a")(x),
                          layers.Dense(1, name="output_b", activation="sigmoid")(x)])


KERAS_MODEL_TEST_CASES = [  # keras/src/models/model_test.py: compile arguments -> the History keys
    (dict(loss=["mean_squared_error", "binary_crossentropy"],
          metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]], loss_weights=[0.1, 2]),
     ["loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy", "output_b_loss",
      "output_b_mean_squared_error"]),
    (dict(loss=["mse", "bce"], metrics=[["bce", "mse", "mae"], ["mse", "acc"]], loss_weights=[0.1, 2]),
     ["loss", "output_a_loss", "output_a_bce", "output_a_mae", "output_a_mse", "output_b_acc", "output_b_loss",
      "output_b_mse"]),
    (dict(loss=["mean_squared_error", ["binary_crossentropy"]],
          metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]], loss_weights=[0.1, 2]),
     ["loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy", "output_b_loss",
      "output_b_mean_squared_error"]),
    (dict(loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
          metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error", "accuracy"]},
          weighted_metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error", "accuracy"]}),
     ["loss", "output_a_loss", "output_a_mean_squared_error", "output_a_weighted_mean_squared_error",
      "output_b_accuracy", "output_b_loss", "output_b_mean_squared_error", "output_b_weighted_accuracy",
      "output_b_weighted_mean_squared_error"]),
    (dict(loss={"output_b": ["binary_crossentropy"]},
          metrics={"output_b": ["mean_squared_error", "accuracy"]},
          weighted_metrics={"output_b": ["mean_squared_error", "accuracy"]}),
     ["loss", "output_b_accuracy", "output_b_mean_squared_error", "output_b_weighted_accuracy",
      "output_b_weighted_mean_squared_error"]),
]


@pytest.mark.parametrize("case", range(len(KERAS_MODEL_TEST_CASES)))
def test_keras_model_test_history_keys(case):
    options, keys = KERAS_MODEL_TEST_CASES[case]
    model = keras_list_model()
    model.compile(optimizer="sgd", **options)
    rng = np.random.default_rng(case)
    x, y1, y2 = rng.random((8, 3)), rng.random((8, 1)), rng.integers(0, 2, (8, 1))
    y = {"output_a": y1, "output_b": y2} if isinstance(options["loss"], dict) else (y1, y2)
    hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert sorted(hist.history) == sorted(keys)
    # "acc" / "accuracy" of the sigmoid output follows its binary loss: binary accuracy at 0.5.
    acc = [k for k in keys if k in ("output_b_acc", "output_b_accuracy")]
    if acc:
        p = model.predict(x, verbose=0)[1]
        np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)[acc[0]],
                                   ((p > 0.5) == y2).mean())


def test_a_loss_entry_must_be_one_loss():
    with pytest.raises(ValueError, match="takes one loss"):
        keras_list_model().compile(loss=["mse", ["mse", "mae"]])


def test_a_metric_that_computes_in_numpy_updates_its_output_after_each_replay():
    x, (y1, y2) = generated(n=53)
    sw = np.random.default_rng(6).uniform(0.5, 2.0, len(y1)).astype("float32")

    def make(**options):
        model = two_output_model(metric_style="dict", **options)
        model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"],
                      metrics={"cls": [metrics.SparseTopKCategoricalAccuracy(2)]},
                      weighted_metrics={"cls": [metrics.SparseTopKCategoricalAccuracy(2)]}, **options)
        return model

    def run(model):
        h = model.fit(x, [y1, y2], sample_weight=sw, epochs=3, batch_size=16, verbose=0)
        return h.history, model.evaluate(x, [y1, y2], sample_weight=sw, batch_size=16, verbose=0)

    (got, captured), (want, eager) = captured_and_eager(make, run)
    assert got == want
    assert_same_state(captured, eager)
    train = [i for i in captured.plan_info() if i["mode"] == "train" and i["path"] == "captured"]
    assert train and all(i["eager_metrics"] == ["cls_sparse_top_k_categorical_accuracy",
                                                "cls_weighted_sparse_top_k_categorical_accuracy"] for i in train)
    assert got[0]["cls_sparse_top_k_categorical_accuracy"] != got[0]["cls_weighted_sparse_top_k_categorical_accuracy"]
