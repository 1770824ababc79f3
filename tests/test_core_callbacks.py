"""Callbacks and the progress bar, driven by hand through CallbackList with a stand-in model."""

import math
import os

import numpy as np
import pytest

from pynn import callbacks
from pynn.utils import Progbar


class FakeOptimizer:
    learning_rate = 0.1


class FakeModel:
    """What callbacks use of a model: weights, saving, stop_training, optimizer."""

    def __init__(self):
        self.weights = [np.zeros(2)]
        self.stop_training = False
        self.optimizer = FakeOptimizer()
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]

    def save(self, path):
        self.saved.append(("model", path))
        open(path, "w").close()

    def save_weights(self, path):
        self.saved.append(("weights", path))
        open(path, "w").close()


def run(cbs, values, monitor="val_loss", epochs=None, model=None):
    """fit's hook sequence over epochs whose logs give `monitor` the listed values; the
    model's weights are [epoch, epoch] during each epoch. Returns the epochs run."""
    model = model or FakeModel()
    cl = callbacks.CallbackList(cbs, add_history=True, model=model, epochs=epochs or len(values), steps=1,
                                verbose=0)
    cl.on_train_begin()
    ran = []
    for epoch, v in enumerate(values):
        cl.on_epoch_begin(epoch)
        model.weights = [np.full(2, float(epoch))]
        cl.on_train_batch_begin(0)
        cl.on_train_batch_end(0, {"loss": v})
        cl.on_epoch_end(epoch, {monitor: v, "loss": v})
        ran.append(epoch)
        if model.stop_training:
            break
    cl.on_train_end()
    return ran, model


def test_callback_list_order_adds_history_and_sets_model_and_params():
    order = []

    class Rec(callbacks.Callback):
        def __init__(self, tag):
            super().__init__()
            self.tag = tag

        def on_epoch_end(self, epoch, logs=None):
            order.append((self.tag, epoch, dict(logs)))

    a, b = Rec("a"), Rec("b")
    model = FakeModel()
    cl = callbacks.CallbackList([a, b], add_history=True, model=model, epochs=3, steps=7, verbose=0)
    assert isinstance(cl.callbacks[-1], callbacks.History) and len(cl.callbacks) == 3
    assert a.model is model and a.params == {"epochs": 3, "steps": 7, "verbose": 0}
    cl.on_epoch_end(0, {"loss": 1.0})
    cl.on_epoch_end(1)
    assert order == [("a", 0, {"loss": 1.0}), ("b", 0, {"loss": 1.0}), ("a", 1, {}), ("b", 1, {})]
    with pytest.raises(TypeError, match="Callback instances"):
        callbacks.CallbackList([lambda: None])


def test_history_collects_epochs():
    _, model = run([], [3.0, 2.0, 1.0])
    assert model.history.epoch == [0, 1, 2]
    assert model.history.history == {"val_loss": [3.0, 2.0, 1.0], "loss": [3.0, 2.0, 1.0]}


@pytest.mark.parametrize("values, patience, min_delta, stopped", [
    ([5, 4, 3, 2, 1], 0, 0, None),  # always improving: never stops
    ([5, 4, 4, 4, 4, 4], 2, 0, 3),  # best at 1, waits 2 epochs
    ([5, 4.95, 4.9, 4.85, 4.8], 1, 0.1, 1),  # improvements below min_delta do not count
    ([1, 2, 3], 0, 0, 1),
])
def test_early_stopping_patience_and_min_delta(values, patience, min_delta, stopped):
    es = callbacks.EarlyStopping(patience=patience, min_delta=min_delta)
    ran, model = run([es], values)
    if stopped is None:
        assert ran == list(range(len(values))) and not model.stop_training and es.stopped_epoch == 0
    else:
        assert ran[-1] == stopped and es.stopped_epoch == stopped and model.stop_training


def test_early_stopping_modes():
    es = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    assert es.mode == "max"
    ran, _ = run([es], [0.5, 0.6, 0.55, 0.58, 0.9], monitor="val_accuracy")
    assert ran == [0, 1, 2]
    assert callbacks.EarlyStopping(monitor="loss").mode == "min"
    es = callbacks.EarlyStopping(monitor="score", mode="max", patience=0)
    ran, _ = run([es], [1, 2, 1], monitor="score")
    assert ran == [0, 1, 2]
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        callbacks.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience must be >= 0"):
        callbacks.EarlyStopping(patience=-1)


def test_early_stopping_baseline_and_start_from_epoch():
    # Keras' rule: an improvement that misses the baseline does not reset the wait
    ran, _ = run([callbacks.EarlyStopping(patience=2, baseline=1.0)], [3, 2, 2, 2, 0.5])
    assert ran == [0, 1, 2]
    ran, _ = run([callbacks.EarlyStopping(patience=2)], [3, 2, 2, 2, 0.5])
    assert ran == [0, 1, 2, 3]
    es = callbacks.EarlyStopping(patience=0, start_from_epoch=3)
    ran, _ = run([es], [1, 2, 3, 4, 5, 6])  # worsening, but only watched from epoch 3
    assert ran == [0, 1, 2, 3, 4]


def test_early_stopping_restores_best_weights(capsys):
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    ran, model = run([es], [5, 3, 4, 4, 4, 4])
    assert ran == [0, 1, 2, 3] and np.array_equal(model.weights[0], [1.0, 1.0])
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 4: early stopping", "Restoring model weights from the end of the best epoch: 2."]
    # ending without a stop also restores the best epoch's weights, as Keras 3 does
    es = callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    _, model = run([es], [5, 1, 4])
    assert np.array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_warns_on_missing_monitor():
    es = callbacks.EarlyStopping(monitor="val_auc")
    with pytest.warns(UserWarning, match="`val_auc` which is not available. Available metrics are: val_loss,loss"):
        run([es], [1.0])


def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path):
    path = str(tmp_path / "deep" / "dir" / "ckpt-{epoch:02d}-{val_loss:.2f}.npz")
    mc = callbacks.ModelCheckpoint(path, save_weights_only=True)
    _, model = run([mc], [0.5, 0.25])
    names = [os.path.basename(p) for _, p in model.saved]
    assert names == ["ckpt-01-0.50.npz", "ckpt-02-0.25.npz"]
    assert all(kind == "weights" for kind, _ in model.saved) and all(os.path.exists(p) for _, p in model.saved)


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    path = str(tmp_path / "best-{epoch}.pynn")
    mc = callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    _, model = run([mc], [0.5, 0.7, 0.3, 0.3])
    assert [os.path.basename(p) for kind, p in model.saved] == ["best-1.pynn", "best-3.pynn"]
    assert all(kind == "model" for kind, _ in model.saved)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Epoch 1: val_loss improved from inf to 0.50000, saving model to {tmp_path}/best-1.pynn"
    assert out[1] == "Epoch 2: val_loss did not improve from 0.50000"
    mc = callbacks.ModelCheckpoint(path, monitor="val_acc", save_best_only=True, initial_value_threshold=0.6)
    _, model = run([mc], [0.5, 0.7], monitor="val_acc")
    assert [os.path.basename(p) for _, p in model.saved] == ["best-2.pynn"]
    mc = callbacks.ModelCheckpoint(path, monitor="val_f1", save_best_only=True)
    with pytest.warns(UserWarning, match="val_f1"):
        run([mc], [0.5])


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    mc = callbacks.ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}.npz"), save_freq=2, save_weights_only=True)
    model = FakeModel()
    cl = callbacks.CallbackList([mc], model=model)
    for epoch in range(2):
        cl.on_epoch_begin(epoch)
        for batch in range(3):
            cl.on_train_batch_end(batch, {"loss": 1.0})
        cl.on_epoch_end(epoch, {"loss": 1.0})
    assert [os.path.basename(p) for _, p in model.saved] == ["b1-2.npz", "b2-1.npz", "b2-3.npz"]
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("x", save_freq=0)


def test_lambda_callback_and_scheduler_and_nan():
    seen = []
    lc = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append((e, logs["loss"])),
                                  on_train_end=lambda logs: seen.append("end"))
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    _, model = run([lc, sched], [3.0, 2.0, 1.0])
    assert seen == [(0, 3.0), (1, 2.0), (2, 1.0), "end"]
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    with pytest.raises(TypeError, match="unknown hook 'on_epoch'"):
        callbacks.LambdaCallback(on_epoch=print)
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    with pytest.raises(ValueError, match="must return a finite number"):
        run([bad], [1.0])
    ran, model = run([callbacks.TerminateOnNaN()], [1.0, math.nan, 0.5])
    assert ran == [0, 1] and model.stop_training


# ---------------------------------------------------------------- Progbar

class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def bar(target, verbose=1, dynamic=False, **kw):
    p = Progbar(target, verbose=verbose, **kw)
    clock = Clock()
    p._time = clock
    p._start = clock.now
    p._dynamic_display = dynamic
    return p, clock


def test_progbar_final_line_when_not_a_terminal(capsys):
    p, clock = bar(469, stateful_metrics=["loss", "accuracy"])
    clock.now += 1.0
    p.update(100, [("loss", 0.5)])
    assert capsys.readouterr().out == ""  # not a terminal: nothing until the end
    clock.now += 1.0
    p.update(469, [("loss", 0.1168), ("accuracy", 0.9661)])
    assert capsys.readouterr().out == "469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9661 - loss: 0.1168\n"


def test_progbar_verbose_2_and_value_formats(capsys):
    p, clock = bar(10, verbose=2, stateful_metrics=["big", "tiny"])
    clock.now += 0.00045 * 10
    p.update(10, [("tiny", 0.000123456), ("big", 1234.5)])
    assert capsys.readouterr().out == "10/10 - 0s - 450us/step - big: 1234.5000 - tiny: 1.2346e-04\n"


def test_progbar_averages_non_stateful_values(capsys):
    p, clock = bar(4, verbose=2)
    p.update(1, [("loss", 4.0)])
    p.update(3, [("loss", 1.0)])  # two steps at 1.0
    clock.now += 8
    p.update(4, [("loss", 2.0)])
    assert capsys.readouterr().out == "4/4 - 8s - 2s/step - loss: 2.0000\n"  # (4 + 1 + 1 + 2) / 4


def test_progbar_redraws_in_place_throttled(capsys):
    p, clock = bar(50, dynamic=True, stateful_metrics=["loss"])
    clock.now += 0.1
    p.update(1, [("loss", 1.0)])
    first = capsys.readouterr().out
    assert first.startswith("\r 1/50 ") and "\x1b[2m" in first and " 5s 100ms/step - loss: 1.0000" in first
    clock.now += 0.01
    p.update(2, [("loss", 0.9)])
    assert capsys.readouterr().out == ""  # within 0.05 s of the last draw
    clock.now += 0.1
    p.update(3, [("loss", 0.8)])
    assert capsys.readouterr().out.startswith("\r 3/50 ━\x1b[2m━━━")
    clock.now += 1
    p.update(50, [("loss", 0.123)])
    last = capsys.readouterr().out
    assert last.startswith("\r50/50 ━━━━━━━━━━━━━━━━━━━━ 1s 24ms/step - loss: 0.1230") and last.endswith("\n")


def test_progbar_clears_a_longer_previous_line(capsys):
    p, clock = bar(2, dynamic=True, stateful_metrics=["a_long_metric_name"])
    p.update(1, [("a_long_metric_name", 1.0)])
    long_line = capsys.readouterr().out
    p.stateful_metrics = set()
    p._values.clear()
    clock.now += 1
    p.update(2)
    short = capsys.readouterr().out
    assert len(short.rstrip("\n")) == len(long_line)  # padded with spaces over the old text


def test_progbar_unknown_target(capsys):
    p, clock = bar(None, verbose=2)
    clock.now += 3
    p.update(7, finalize=True)
    assert capsys.readouterr().out == "7/Unknown - 3s - 429ms/step\n"


def test_progbar_logger_prints_epochs(capsys):
    model = FakeModel()
    cl = callbacks.CallbackList([], add_progbar=True, model=model, epochs=2, steps=3, verbose=2)
    cl.on_train_begin()
    for epoch in range(2):
        cl.on_epoch_begin(epoch)
        for b in range(3):
            cl.on_train_batch_end(b, {"loss": 1.0 / (b + 1)})
        cl.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.25})
    cl.on_train_end()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("3/3 - ") and lines[1].endswith("/step - loss: 0.5000 - val_loss: 0.2500")
