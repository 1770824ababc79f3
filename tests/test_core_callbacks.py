"""Callbacks and the progress bar, driven by hand through CallbackList with a stand-in model.

The expected behaviour is Keras 3's (keras/src/callbacks, keras/src/utils/progbar.py);
the few places pynn differs on purpose say so where they are tested.
"""

import math
import os

import numpy as np
import pytest

from pynn import callbacks, utils
from pynn.callbacks import CallbackList
from pynn.utils import Progbar

BOLD, GREEN, DIM, RESET = "\x1b[1m", "\x1b[32m", "\x1b[2m", "\x1b[0m"


# ---------------------------------------------------------------- a stand-in model

class FakeOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate


class FakeModel:
    """What callbacks use of a model: weights, saving, stop_training, optimizer, history."""

    def __init__(self):
        self.weights = [np.zeros(2), np.zeros(3)]
        self.stop_training = False
        self.optimizer = FakeOptimizer()
        self.history = None
        self.saved = []  # (kind, path) per save

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w, copy=True) for w in weights]

    def save(self, path):
        self.saved.append(("model", path))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saved.append(("weights", path))
        with open(path, "w") as f:
            f.write("weights")


def fit(cbs, values, monitor="val_loss", model=None, steps=1, verbose=0):
    """Runs fit's hook sequence over len(values) epochs; epoch e's logs give `monitor` the value
    values[e] (and loss = values[e]). During epoch e the weights are all e, so the weights
    restored later tell which epoch they came from. Stops as fit does. Returns (epochs run, model)."""
    model = model or FakeModel()
    cl = CallbackList(cbs, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
                      epochs=len(values), steps=steps)
    model.stop_training = False
    cl.on_train_begin()
    ran = []
    logs = {}
    for epoch, v in enumerate(values):
        cl.on_epoch_begin(epoch)
        model.weights = [np.full(2, float(epoch)), np.full(3, float(epoch))]
        for batch in range(steps):
            cl.on_train_batch_begin(batch)
            cl.on_train_batch_end(batch, {"loss": v})
            if model.stop_training:
                break
        logs = {"loss": v, monitor: v}
        cl.on_epoch_end(epoch, logs)
        ran.append(epoch)
        if model.stop_training:
            break
    cl.on_train_end(logs)
    return ran, model


def weights_epoch(model):
    """Which epoch the model's weights come from (see fit above)."""
    values = {float(v) for w in model.weights for v in w}
    assert len(values) == 1, model.weights
    return int(values.pop())


# ---------------------------------------------------------------- CallbackList and the base class

class Recorder(callbacks.Callback):
    def __init__(self, tag, calls):
        super().__init__()
        self.tag, self.calls = tag, calls
        self.logs = []

    def _rec(self, hook, logs, *index):
        self.calls.append((self.tag, hook) + index)
        self.logs.append(logs)

    def on_train_begin(self, logs=None): self._rec("train_begin", logs)
    def on_train_end(self, logs=None): self._rec("train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._rec("epoch_begin", logs, epoch)
    def on_epoch_end(self, epoch, logs=None): self._rec("epoch_end", logs, epoch)
    def on_train_batch_begin(self, batch, logs=None): self._rec("batch_begin", logs, batch)
    def on_train_batch_end(self, batch, logs=None): self._rec("batch_end", logs, batch)
    def on_test_begin(self, logs=None): self._rec("test_begin", logs)
    def on_test_end(self, logs=None): self._rec("test_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._rec("test_batch_begin", logs, batch)
    def on_test_batch_end(self, batch, logs=None): self._rec("test_batch_end", logs, batch)
    def on_predict_begin(self, logs=None): self._rec("predict_begin", logs)
    def on_predict_end(self, logs=None): self._rec("predict_end", logs)
    def on_predict_batch_begin(self, batch, logs=None): self._rec("predict_batch_begin", logs, batch)
    def on_predict_batch_end(self, batch, logs=None): self._rec("predict_batch_end", logs, batch)


def test_callback_list_forwards_every_hook_in_order_with_one_logs_dict():
    calls = []
    a, b = Recorder("a", calls), Recorder("b", calls)
    cl = CallbackList([a, b])
    logs = {"loss": 1.0}
    cl.on_train_begin()
    cl.on_epoch_begin(0)
    cl.on_train_batch_begin(0)
    cl.on_train_batch_end(0, logs)
    cl.on_epoch_end(0, logs)
    cl.on_train_end(logs)
    cl.on_test_begin()
    cl.on_test_batch_begin(3)
    cl.on_test_batch_end(3, {})
    cl.on_test_end({})
    cl.on_predict_begin()
    cl.on_predict_batch_begin(4)
    cl.on_predict_batch_end(4)
    cl.on_predict_end()
    assert [c[1:] for c in calls if c[0] == "a"] == [("train_begin",), ("epoch_begin", 0), ("batch_begin", 0), ("batch_end", 0), ("epoch_end", 0),
                     ("train_end",), ("test_begin",), ("test_batch_begin", 3), ("test_batch_end", 3),
                     ("test_end",), ("predict_begin",), ("predict_batch_begin", 4), ("predict_batch_end", 4),
                     ("predict_end",)]
    # each hook reaches a, then b, before the next hook
    assert [c[0] for c in calls] == ["a", "b"] * 14
    # the same dict reaches every callback; logs=None arrives as {}
    assert a.logs[3] is logs and b.logs[3] is logs and a.logs[4] is logs and b.logs[5] is logs
    assert all(isinstance(x, dict) for x in a.logs + b.logs) and a.logs[0] == {} and a.logs[-1] == {}


def test_callback_list_adds_defaults_and_sets_model_and_params():
    model = FakeModel()
    mine = callbacks.LambdaCallback()
    cl = CallbackList([mine], add_history=True, add_progbar=True, model=model, verbose=1, epochs=3, steps=7)
    assert [type(c) for c in cl.callbacks] == [callbacks.LambdaCallback, callbacks.History, callbacks.ProgbarLogger]
    assert all(c.model is model for c in cl) and model.history is cl.callbacks[1]
    assert all(c.params == {"verbose": 1, "epochs": 3, "steps": 7} for c in cl)
    # defaults already present are not added twice; a lone callback is accepted
    history, logger = callbacks.History(), callbacks.ProgbarLogger()
    cl = CallbackList([logger, history], add_history=True, add_progbar=True, model=model)
    assert cl.callbacks == [logger, history] and model.history is history
    assert CallbackList(history).callbacks == [history] and len(CallbackList(None)) == 0
    later = callbacks.Callback()
    cl.append(later)
    assert cl.callbacks[-1] is later and later.model is model
    with pytest.raises(TypeError, match="Callback instances, got function"):
        CallbackList([lambda: None])
    with pytest.raises(TypeError, match="Callback instances, got str"):
        cl.append("History")


def test_old_batch_hook_names_still_run():
    seen = []

    class Old(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs["loss"]))

    cl = CallbackList([Old()])
    cl.on_train_batch_begin(2)
    cl.on_train_batch_end(2, {"loss": 0.5})
    assert seen == [("begin", 2), ("end", 2, 0.5)]


def test_history_records_epoch_logs_and_keeps_them_across_fits():
    history = callbacks.History()
    _, model = fit([history], [3.0, 2.0, 1.0])
    assert model.history is history and history.epoch == [0, 1, 2]
    assert history.history == {"loss": [3.0, 2.0, 1.0], "val_loss": [3.0, 2.0, 1.0]}
    # Keras 3: a second fit restarts `epoch` but appends to `history`
    fit([history], [0.5], model=model)
    assert history.epoch == [0] and history.history["loss"] == [3.0, 2.0, 1.0, 0.5]
    # fit's own History (add_history=True) is fresh each time
    _, model = fit([], [4.0, 5.0])
    assert model.history.history == {"loss": [4.0, 5.0], "val_loss": [4.0, 5.0]} and model.history is not history


# ---------------------------------------------------------------- EarlyStopping

@pytest.mark.parametrize("values, patience, min_delta, last", [
    ([5, 4, 3, 2, 1], 0, 0, None),           # always improving: never stops
    ([1, 2, 3], 0, 0, 1),                      # patience 0: the first worse epoch stops
    ([5, 4, 4, 4, 4, 4], 2, 0, 3),             # best at epoch 1, then 2 epochs of waiting
    ([5, 4, 3.5, 4, 4, 4], 2, 0, 4),
    ([5, 4.95, 4.9, 4.85, 4.8], 1, 0.1, 1),    # steps of 0.05 are below min_delta: no improvement
    ([5, 4.95, 4.9, 4.85, 4.8], 1, -0.1, 1),   # the sign of min_delta does not matter
    ([5, 4.8, 4.6, 4.4, 4.2], 1, 0.1, None),   # steps of 0.2 are
])
def test_early_stopping_patience_and_min_delta(values, patience, min_delta, last):
    es = callbacks.EarlyStopping(patience=patience, min_delta=min_delta)
    ran, model = fit([es], values)
    if last is None:
        assert ran == list(range(len(values))) and not model.stop_training and es.stopped_epoch == 0
    else:
        assert ran == list(range(last + 1)) and es.stopped_epoch == last and model.stop_training


def test_early_stopping_modes():
    assert callbacks.EarlyStopping().monitor_op is np.less  # val_loss
    for name in ("accuracy", "val_accuracy", "val_acc", "sparse_categorical_accuracy", "val_auc", "precision",
                 "val_recall"):
        assert callbacks.EarlyStopping(monitor=name).monitor_op is np.greater, name
    for name in ("loss", "val_mean_squared_error", "mae", "val_kl_divergence"):
        assert callbacks.EarlyStopping(monitor=name).monitor_op is np.less, name
    # auto on an accuracy: rising is improving
    ran, _ = fit([callbacks.EarlyStopping(monitor="val_accuracy", patience=1)], [0.5, 0.6, 0.55, 0.58, 0.9],
                 monitor="val_accuracy")
    assert ran == [0, 1, 2]
    # explicit modes override the name
    ran, _ = fit([callbacks.EarlyStopping(monitor="score", mode="max")], [1, 2, 3, 2.5], monitor="score")
    assert ran == [0, 1, 2, 3]
    ran, _ = fit([callbacks.EarlyStopping(monitor="score", mode="min")], [1, 2, 3, 2.5], monitor="score")
    assert ran == [0, 1]
    ran, _ = fit([callbacks.EarlyStopping(monitor="val_accuracy", mode="min")], [0.5, 0.4, 0.6],
                 monitor="val_accuracy")
    assert ran == [0, 1, 2]


def test_early_stopping_baseline():
    # improvements that miss the baseline do not reset the wait (Keras' rule)
    ran, _ = fit([callbacks.EarlyStopping(patience=2, baseline=1.0)], [3, 2, 2.2, 2.1, 2.3])
    assert ran == [0, 1, 2]
    ran, _ = fit([callbacks.EarlyStopping(patience=2)], [3, 2, 2.2, 2.1, 2.3])
    assert ran == [0, 1, 2, 3]
    # one that beats the baseline resets it
    ran, _ = fit([callbacks.EarlyStopping(patience=2, baseline=2.5)], [3, 2, 2.2, 2.1, 2.3])
    assert ran == [0, 1, 2, 3]
    # max mode: the baseline must be exceeded
    es = callbacks.EarlyStopping(monitor="val_accuracy", patience=1, baseline=0.9)
    ran, _ = fit([es], [0.5, 0.6, 0.55, 0.95], monitor="val_accuracy")
    assert ran == [0, 1, 2] and es.best == 0.6


def test_early_stopping_start_from_epoch():
    es = callbacks.EarlyStopping(patience=0, start_from_epoch=3)
    ran, _ = fit([es], [1, 2, 3, 4, 5, 6])  # worsening all along, watched only from epoch 3
    assert ran == [0, 1, 2, 3, 4] and es.stopped_epoch == 4 and es.best == 4
    ran, _ = fit([callbacks.EarlyStopping(patience=0)], [1, 2, 3, 4, 5, 6])
    assert ran == [0, 1]


def test_early_stopping_restores_the_best_weights(capsys):
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    ran, model = fit([es], [5, 3, 4, 4, 4, 4])
    assert ran == [0, 1, 2, 3] and es.best_epoch == 1 and es.best == 3
    assert weights_epoch(model) == 1  # not 3, the last epoch run
    assert capsys.readouterr().out == ("Epoch 4: early stopping\n"
                                       "Restoring model weights from the end of the best epoch: 2.\n")
    # Keras 3 also restores when training runs to the end without stopping
    _, model = fit([callbacks.EarlyStopping(patience=5, restore_best_weights=True)], [5, 1, 4])
    assert weights_epoch(model) == 1
    # without restore_best_weights the last weights stay, and verbose=0 prints nothing
    ran, model = fit([callbacks.EarlyStopping(patience=2)], [5, 3, 4, 4, 4, 4])
    assert weights_epoch(model) == 3 and capsys.readouterr().out == ""
    # warm-up epochs never count as the best
    es = callbacks.EarlyStopping(patience=1, restore_best_weights=True, start_from_epoch=2)
    _, model = fit([es], [0, 0, 5, 6, 7])
    assert es.best_epoch == 2 and weights_epoch(model) == 2


def test_early_stopping_instance_is_reset_by_each_fit():
    es = callbacks.EarlyStopping(patience=1)
    ran, _ = fit([es], [1, 2, 3])
    assert ran == [0, 1] and es.stopped_epoch == 1
    ran, _ = fit([es], [9, 8, 7])  # the old best (1) is forgotten
    assert ran == [0, 1, 2] and es.stopped_epoch == 0 and es.best == 7


def test_early_stopping_warns_about_a_missing_monitor():
    es = callbacks.EarlyStopping(monitor="val_auc")
    with pytest.warns(UserWarning, match="`val_auc` which is not available. Available metrics are: loss,val_loss"):
        ran, model = fit([es], [1.0, 2.0])
    assert ran == [0, 1] and not model.stop_training


def test_early_stopping_argument_errors():
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'min', 'max', got 'up'"):
        callbacks.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience must be an int >= 0, got -1"):
        callbacks.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="patience must be an int >= 0, got 1.5"):
        callbacks.EarlyStopping(patience=1.5)
    with pytest.raises(ValueError, match="start_from_epoch must be an int >= 0"):
        callbacks.EarlyStopping(start_from_epoch=-2)


# ---------------------------------------------------------------- ModelCheckpoint

def names(model):
    return [os.path.basename(p) for _, p in model.saved]


def test_model_checkpoint_formats_names_and_creates_the_directory(tmp_path):
    path = tmp_path / "deep" / "dir" / "ckpt-{epoch:02d}-{val_loss:.2f}.weights.npz"
    mc = callbacks.ModelCheckpoint(path, save_weights_only=True)  # a PathLike is fine
    _, model = fit([mc], [0.5, 0.25, 0.75])
    assert names(model) == ["ckpt-01-0.50.weights.npz", "ckpt-02-0.25.weights.npz", "ckpt-03-0.75.weights.npz"]
    assert all(kind == "weights" for kind, _ in model.saved)
    assert sorted(os.listdir(tmp_path / "deep" / "dir")) == names(model)
    # the whole model without save_weights_only
    _, model = fit([callbacks.ModelCheckpoint(str(tmp_path / "m{epoch}.pynn"))], [1.0])
    assert model.saved == [("model", str(tmp_path / "m1.pynn"))]


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    path = str(tmp_path / "best-{epoch}.pynn")
    mc = callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    _, model = fit([mc], [0.5, 0.7, 0.3, 0.3, 0.1])
    assert names(model) == ["best-1.pynn", "best-3.pynn", "best-5.pynn"] and mc.best == 0.1
    assert capsys.readouterr().out.splitlines() == [
        f"Epoch 1: val_loss improved from inf to 0.50000, saving model to {tmp_path}/best-1.pynn",
        "Epoch 2: val_loss did not improve from 0.50000",
        f"Epoch 3: val_loss improved from 0.50000 to 0.30000, saving model to {tmp_path}/best-3.pynn",
        "Epoch 4: val_loss did not improve from 0.30000",
        f"Epoch 5: val_loss improved from 0.30000 to 0.10000, saving model to {tmp_path}/best-5.pynn",
    ]
    # max mode from the name; initial_value_threshold is the first best to beat
    mc = callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.6)
    _, model = fit([mc], [0.5, 0.7, 0.65, 0.8], monitor="val_accuracy")
    assert names(model) == ["best-2.pynn", "best-4.pynn"]
    mc = callbacks.ModelCheckpoint(path, monitor="val_accuracy", mode="min", save_best_only=True)
    _, model = fit([mc], [0.5, 0.7, 0.4], monitor="val_accuracy")
    assert names(model) == ["best-1.pynn", "best-3.pynn"]


def test_model_checkpoint_warns_and_skips_without_the_monitor(tmp_path):
    mc = callbacks.ModelCheckpoint(str(tmp_path / "x.npz"), monitor="val_f1", save_best_only=True)
    with pytest.warns(UserWarning, match="Can save best model only with val_f1 available, skipping. "
                                         "Available metrics are: loss,val_loss"):
        _, model = fit([mc], [0.5])
    assert model.saved == []


def test_model_checkpoint_every_n_batches(tmp_path, capsys):
    mc = callbacks.ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}.npz"), save_freq=2, save_weights_only=True,
                                   verbose=1)
    _, model = fit([mc], [1.0, 1.0], steps=3)  # batches 0,1,2 | 0,1,2: the count runs across epochs
    assert names(model) == ["b1-2.npz", "b2-1.npz", "b2-3.npz"]
    assert capsys.readouterr().out.splitlines()[0] == f"Epoch 1: saving model to {tmp_path}/b1-2.npz"


def test_model_checkpoint_errors(tmp_path):
    for bad in (0, -3, "batch", 2.0, True):
        with pytest.raises(ValueError, match="save_freq"):
            callbacks.ModelCheckpoint("x.npz", save_freq=bad)
    with pytest.raises(ValueError, match="ModelCheckpoint: mode must be one of 'auto', 'min', 'max'"):
        callbacks.ModelCheckpoint("x.npz", mode="best")
    mc = callbacks.ModelCheckpoint(str(tmp_path / "{epoch}-{val_f1:.2f}.npz"))
    with pytest.raises(KeyError, match="val_f1"):
        fit([mc], [1.0])


# ---------------------------------------------------------------- LambdaCallback, LearningRateScheduler, TerminateOnNaN

def test_lambda_callback():
    seen = []
    lc = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_begin=lambda epoch, logs: seen.append(("epoch", epoch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch, logs["loss"])),
        on_epoch_end=lambda epoch, logs: seen.append(("end", epoch, logs["val_loss"])),
        on_train_end=lambda logs: seen.append("done"),
        on_test_end=lambda logs: seen.append(("test", logs["loss"])),  # any other hook by name
    )
    fit([lc], [3.0, 2.0], steps=2)
    CallbackList([lc]).on_test_end({"loss": 0.5})
    assert seen == ["begin", ("epoch", 0), ("batch", 0, 3.0), ("batch", 1, 3.0), ("end", 0, 3.0),
                    ("epoch", 1), ("batch", 0, 2.0), ("batch", 1, 2.0), ("end", 1, 2.0), "done", ("test", 0.5)]
    quiet = callbacks.LambdaCallback(on_epoch_end=None)  # None leaves the hook a no-op
    assert quiet.on_epoch_end(0, {}) is None
    with pytest.raises(TypeError, match="unknown hook 'on_epoch'"):
        callbacks.LambdaCallback(on_epoch=print)
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_learning_rate_scheduler(capsys):
    rates = []
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr, verbose=1)
    record = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: rates.append(model.optimizer.learning_rate))
    model = FakeModel()
    fit([sched, record], [3.0, 2.0, 1.0], model=model)
    assert rates == [0.1, 0.05, 0.025] and isinstance(model.optimizer.learning_rate, float)
    assert model.history.history["learning_rate"] == [0.1, 0.05, 0.025]  # Keras 3 logs the rate
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 1: LearningRateScheduler setting learning rate to 0.1.",
        "Epoch 2: LearningRateScheduler setting learning rate to 0.05.",
        "Epoch 3: LearningRateScheduler setting learning rate to 0.025.",
    ]
    # a one-argument schedule (Keras' old form), and NumPy or int results
    _, model = fit([callbacks.LearningRateScheduler(lambda epoch: np.float32(0.5) ** epoch)], [1, 1, 1])
    assert model.optimizer.learning_rate == 0.25 and type(model.optimizer.learning_rate) is float
    _, model = fit([callbacks.LearningRateScheduler(lambda epoch, lr: 1)], [1])
    assert model.optimizer.learning_rate == 1.0


def test_learning_rate_scheduler_errors():
    for bad in ("fast", None, float("nan"), [0.1]):
        with pytest.raises(ValueError, match="the schedule must return a finite number"):
            fit([callbacks.LearningRateScheduler(lambda epoch, lr, bad=bad: bad)], [1.0])
    with pytest.raises(TypeError, match="schedule must be callable"):
        callbacks.LearningRateScheduler(0.1)
    model = FakeModel()
    model.optimizer = object()
    with pytest.raises(ValueError, match='"learning_rate" attribute'):
        fit([callbacks.LearningRateScheduler(lambda epoch, lr: lr)], [1.0], model=model)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_terminate_on_nan(bad, capsys):
    ran, model = fit([callbacks.TerminateOnNaN()], [1.0, bad, 0.5])
    assert ran == [0, 1] and model.stop_training
    assert capsys.readouterr().out == "Batch 0: Invalid loss, terminating training\n"


def test_terminate_on_nan_leaves_finite_losses_alone():
    ran, model = fit([callbacks.TerminateOnNaN()], [1.0, 1e30, 0.0], steps=2)
    assert ran == [0, 1, 2] and not model.stop_training


# ---------------------------------------------------------------- Progbar

class FakeTime:
    """Stands in for the time module inside pynn.utils: time only moves when told."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(utils, "time", fake)
    monkeypatch.setattr(Progbar, "_line_open", False)
    return fake


def test_progbar_non_interactive_prints_only_the_final_line(clock, capsys):
    p = Progbar(469, stateful_metrics=["loss", "accuracy"])
    assert p._dynamic_display is False  # captured stdout is not a terminal
    clock.now += 0.25  # the first step, left out of the time per step
    p.update(1, [("loss", 0.9), ("accuracy", 0.5)])
    clock.now += 1.0
    p.update(300, [("loss", 0.5), ("accuracy", 0.8)])
    assert capsys.readouterr().out == ""
    clock.now += 168 * 0.004
    p.update(469, [("loss", 0.1168), ("accuracy", 0.9661)])
    out = capsys.readouterr().out
    assert out == "469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9661 - loss: 0.1168\n"
    assert "\x1b" not in out and "\r" not in out


def test_progbar_partial_final_line_and_count_width(clock, capsys):
    p = Progbar(1000, verbose=1)
    clock.now += 3
    p.update(450, finalize=True)  # e.g. training stopped mid-epoch
    assert capsys.readouterr().out == " 450/1000 ━━━━━━━━━─────────── 3s 7ms/step\n"
    p = Progbar(8, width=4)
    clock.now += 90
    p.update(6, [("b", 2.0)], finalize=True)
    assert capsys.readouterr().out == "6/8 ━━━─ 90s 15s/step - b: 2.0000\n"


def test_progbar_verbose_2_line_and_value_formats(clock, capsys):
    p = Progbar(10, verbose=2, stateful_metrics=["tiny", "big", "zero", "neg_tiny", "neg", "edge"])
    p.update(5, [("big", 1.0)])
    assert capsys.readouterr().out == ""  # verbose=2 waits for the end
    clock.now += 0.00045 * 10
    p.update(10, [("tiny", 0.000123456), ("big", 1234.56789), ("zero", 0.0), ("neg_tiny", -0.0005),
                  ("neg", -2.5), ("edge", 0.001)])
    assert capsys.readouterr().out == ("10/10 - 0s - 450us/step - big: 1234.5679 - edge: 1.0000e-03 - neg: -2.5000"
                                       " - neg_tiny: -5.0000e-04 - tiny: 1.2346e-04 - zero: 0.0000e+00\n")


def test_progbar_names_in_alphabetical_order(clock, capsys):
    p = Progbar(1, verbose=2, stateful_metrics=["val_loss", "loss", "accuracy", "val_accuracy"])
    p.update(1, [("val_loss", 4.0), ("loss", 2.0), ("val_accuracy", 3.0), ("accuracy", 1.0)])
    out = capsys.readouterr().out
    assert out.endswith("- accuracy: 1.0000 - loss: 2.0000 - val_accuracy: 3.0000 - val_loss: 4.0000\n")


def test_progbar_averages_names_that_are_not_stateful(clock, capsys):
    p = Progbar(4, verbose=2, stateful_metrics=["lr"])
    p.update(1, [("loss", 4.0), ("lr", 0.5)])
    p.update(3, [("loss", 1.0), ("lr", 0.25)])  # counts for two steps
    clock.now += 8
    p.add(1, [("loss", 2.0), ("lr", 0.125)])
    # loss: (4 + 1 + 1 + 2) / 4; lr as given last; 8 s over the 3 steps after the first
    assert capsys.readouterr().out == "4/4 - 8s - 3s/step - loss: 2.0000 - lr: 0.1250\n"


def test_progbar_time_per_step_leaves_out_the_first_step(clock, capsys):
    p = Progbar(3, verbose=2)
    clock.now += 5.0  # a slow first step (warm-up)
    p.update(1)
    clock.now += 0.2
    p.update(3)
    assert capsys.readouterr().out == "3/3 - 5s - 100ms/step\n"


def test_progbar_redraws_in_place_on_a_terminal(clock, capsys):
    p = Progbar(50, stateful_metrics=["loss"])
    p._dynamic_display = True
    clock.now += 0.1
    p.update(1, [("loss", 1.0)])
    # ETA = 0.1 s/step * 49 steps, truncated; no done cell yet
    assert capsys.readouterr().out == (f"\r{BOLD} 1/50{RESET} {DIM}{'━' * 20}{RESET} {BOLD}4s{RESET} "
                                       f"100ms/step - loss: 1.0000")
    assert Progbar._line_open
    clock.now += 0.01
    p.update(2, [("loss", 0.9)])
    assert capsys.readouterr().out == ""  # within `interval` (0.05 s) of the last draw: not drawn
    clock.now += 0.29  # 0.15 s per step since step 1
    p.update(3, [("loss", 0.8)])
    assert capsys.readouterr().out == (f"\r{BOLD} 3/50{RESET} {GREEN}━{RESET}{DIM}{'━' * 19}{RESET} "
                                       f"{BOLD}7s{RESET} 150ms/step - loss: 0.8000")
    clock.now += 47 * 0.15
    p.update(50, [("loss", 0.123)])  # finalizing is never throttled, and ends the line
    assert capsys.readouterr().out == (f"\r{BOLD}50/50{RESET} {GREEN}{'━' * 20}{RESET} {BOLD}7s{RESET} "
                                       f"150ms/step - loss: 0.1230\n")
    assert not Progbar._line_open


def test_progbar_interval_is_configurable(clock, capsys):
    p = Progbar(100, interval=0.9)
    p._dynamic_display = True
    p.update(1)
    assert capsys.readouterr().out != ""
    for step in range(2, 10):
        clock.now += 0.2
        p.update(step)
        drawn = capsys.readouterr().out != ""
        assert drawn == (step == 6), step  # 0.9 s or more after the draw at step 1


def test_progbar_clears_what_is_left_of_a_longer_line(clock, capsys):
    p = Progbar(3, stateful_metrics=["a_long_metric_name", "x"])
    p._dynamic_display = True
    clock.now += 1
    p.update(1, [("a_long_metric_name", 1.0)])
    long_line = capsys.readouterr().out
    p._values.clear()
    clock.now += 1
    p.update(2, [("x", 1.0)])
    short = capsys.readouterr().out
    visible = len(utils._ANSI_CODE.sub("", long_line))
    assert short.endswith(" " * (len("a_long_metric_name") - len("x")))
    assert len(utils._ANSI_CODE.sub("", short)) == visible  # spaces over the old text
    clock.now += 1
    p.update(3, [("x", 1.0)])
    assert capsys.readouterr().out.endswith("x: 1.0000\n")  # same width now: no padding


def test_progbar_unknown_target(clock, capsys):
    p = Progbar(None, stateful_metrics=["loss"])
    p._dynamic_display = True
    clock.now += 2
    p.update(4, [("loss", 0.5)])  # never finalizes by itself; time field is the elapsed time
    assert capsys.readouterr().out == f"\r{BOLD}      4/Unknown{RESET} {BOLD}2s{RESET} 500ms/step - loss: 0.5000"
    clock.now += 1
    p.update(7, finalize=True)
    assert capsys.readouterr().out == f"\r{BOLD}      7/Unknown{RESET} {BOLD}3s{RESET} 429ms/step - loss: 0.5000\n"
    p = Progbar(None, verbose=2)
    clock.now += 3
    p.update(7)
    assert capsys.readouterr().out == ""
    p.update(7, finalize=True)
    assert capsys.readouterr().out == "7/Unknown - 3s - 429ms/step\n"


@pytest.mark.parametrize("step_seconds, steps_left, eta", [
    (2.0, 10, "20s"), (0.999, 61, "1:00"), (1.0, 125, "2:05"), (10.0, 400, "1:06:40"),
])
def test_progbar_eta_formats(clock, capsys, step_seconds, steps_left, eta):
    target = steps_left + 1
    p = Progbar(target)
    p._dynamic_display = True
    clock.now += step_seconds
    p.update(1)
    assert f" {BOLD}{eta}{RESET} " in capsys.readouterr().out


def test_progbar_verbose_0_is_silent(clock, capsys):
    for dynamic in (False, True):
        p = Progbar(2, verbose=0)
        p._dynamic_display = dynamic
        p.update(1, [("loss", 1.0)])
        p.update(2, [("loss", 1.0)])
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- ProgbarLogger

def run_epochs(logger_verbose, epochs=2, steps=3, stop_at=None):
    """fit's hooks through a CallbackList that adds the ProgbarLogger, 1 s per batch."""
    model = FakeModel()
    cl = CallbackList([], add_history=True, add_progbar=True, model=model, verbose=logger_verbose, epochs=epochs,
                      steps=steps)
    cl.on_train_begin()
    for epoch in range(epochs):
        cl.on_epoch_begin(epoch)
        for batch in range(steps):
            cl.on_train_batch_begin(batch)
            utils.time.now += 1
            cl.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1), "accuracy": 0.5})
            if stop_at == (epoch, batch):
                break
        cl.on_epoch_end(epoch, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.25, "val_accuracy": 0.875})
        if stop_at is not None and stop_at[0] == epoch:
            break
    cl.on_train_end()


def test_progbar_logger_in_fit(clock, capsys):
    run_epochs(2)
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 1/2",
        "3/3 - 3s - 1s/step - accuracy: 0.7500 - loss: 0.5000 - val_accuracy: 0.8750 - val_loss: 0.2500",
        "Epoch 2/2",
        "3/3 - 3s - 1s/step - accuracy: 0.7500 - loss: 0.5000 - val_accuracy: 0.8750 - val_loss: 0.2500",
    ]
    run_epochs(1, epochs=1)  # not a terminal: the final line only; epoch logs shown as given; no "Epoch 1/1"
    assert capsys.readouterr().out.splitlines() == [
        "3/3 ━━━━━━━━━━━━━━━━━━━━ 3s 1s/step - accuracy: 0.7500 - loss: 0.5000 - val_accuracy: 0.8750 - "
        "val_loss: 0.2500",
    ]
    run_epochs(0)
    assert capsys.readouterr().out == ""


def test_progbar_logger_on_a_terminal_and_a_stop_mid_epoch(clock, capsys, monkeypatch):
    monkeypatch.setattr(utils.sys.stdout, "isatty", lambda: True)
    run_epochs(1, epochs=2, steps=4, stop_at=(0, 1))
    out = capsys.readouterr().out
    lines = out.split("\n")
    assert lines[0] == "Epoch 1/2" and lines[-1] == ""
    draws = lines[1].split("\r")[1:]
    assert len(draws) == 3  # batch 0, batch 1, then the epoch's final line
    plain = [utils._ANSI_CODE.sub("", d).rstrip() for d in draws]
    assert plain[0] == "1/4 ━━━━━━━━━━━━━━━━━━━━ 3s 1s/step - accuracy: 0.5000 - loss: 1.0000"
    assert plain[1] == "2/4 ━━━━━━━━━━━━━━━━━━━━ 2s 1s/step - accuracy: 0.5000 - loss: 0.5000"
    # the batches actually run, not the target (Keras shows 4/4 here)
    assert plain[2].startswith("2/4 ━━━━━━━━━━━━━━━━━━━━ 2s 1s/step - accuracy: 0.7500")
    assert draws[2].count(GREEN) == 1 and f"{GREEN}{'━' * 10}{RESET}{DIM}{'━' * 10}{RESET}" in draws[2]


def test_callback_messages_start_on_a_new_line_after_an_open_bar(clock, capsys):
    bar = Progbar(10)
    bar._dynamic_display = True
    bar.update(3)
    cb = callbacks.TerminateOnNaN()
    cb.set_model(FakeModel())
    cb.on_train_batch_end(3, {"loss": math.nan})
    out = capsys.readouterr().out
    assert out.endswith(" 0s/step\nBatch 3: Invalid loss, terminating training\n")
    cb.on_train_batch_end(4, {"loss": math.nan})  # no open line now: no blank line
    assert capsys.readouterr().out == "Batch 4: Invalid loss, terminating training\n"


def test_progbar_logger_evaluate_and_predict(clock, capsys):
    model = FakeModel()
    cl = CallbackList([], add_progbar=True, model=model, verbose=2, epochs=1, steps=2)
    cl.on_test_begin()
    for batch in range(2):
        cl.on_test_batch_begin(batch)
        clock.now += 0.5
        cl.on_test_batch_end(batch, {"loss": 0.5})
    cl.on_test_end({"loss": 0.375, "accuracy": 0.5})
    assert capsys.readouterr().out == "2/2 - 1s - 500ms/step - accuracy: 0.5000 - loss: 0.3750\n"
    cl = CallbackList([], add_progbar=True, model=model, verbose=2, epochs=1, steps=3)
    cl.on_predict_begin()
    for batch in range(3):
        clock.now += 0.002
        cl.on_predict_batch_end(batch, {"outputs": np.zeros((4, 2))})
    cl.on_predict_end()
    assert capsys.readouterr().out == "3/3 - 0s - 2ms/step\n"  # the outputs are not shown
    # an unknown number of steps becomes the number seen
    cl = CallbackList([], add_progbar=True, model=model, verbose=2, epochs=1, steps=None)
    cl.on_predict_begin()
    for batch in range(5):
        cl.on_predict_batch_end(batch)
    cl.on_predict_end()
    assert capsys.readouterr().out == "5/5 - 0s - 0s/step\n"


def test_progbar_logger_is_quiet_for_validation_inside_fit(clock, capsys):
    logger = callbacks.ProgbarLogger()
    cl = CallbackList([logger], model=FakeModel(), verbose=2, epochs=1, steps=1)
    cl.on_train_begin()
    cl.on_test_begin()
    cl.on_test_batch_end(0, {"loss": 1.0})
    cl.on_test_end({"loss": 1.0})
    assert capsys.readouterr().out == ""
    cl.on_train_end()
    cl.on_test_begin()  # evaluate after fit: shown again
    cl.on_test_batch_end(0, {"loss": 1.0})
    cl.on_test_end({"loss": 1.0})
    assert capsys.readouterr().out == "1/1 - 0s - 0s/step - loss: 1.0000\n"
