"""Keras-style callbacks: hooks that fit, evaluate and predict call at fixed points.

Order within fit: on_train_begin; per epoch on_epoch_begin, per batch
on_train_batch_begin / on_train_batch_end(batch, logs), then on_epoch_end(epoch,
logs) with the epoch's logs (running means over the epoch, plus val_* after
validation); on_train_end. evaluate and predict call the on_test_* and
on_predict_* hooks. A callback reaches the model through self.model and may
set self.model.stop_training = True.
"""

import math
import os
import warnings

from .utils import Progbar

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint", "LambdaCallback",
    "LearningRateScheduler", "TerminateOnNaN",
]

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
    "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
)


class Callback:
    """The base: every hook does nothing. self.model and self.params are set by CallbackList."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls each hook on every callback in order; adds a History and a ProgbarLogger when asked."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be pynn.callbacks.Callback instances, got {type(cb).__name__}")
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)
            if model is not None:
                cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)


def _forward(hook, indexed):
    if indexed:
        def call(self, index, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs)
    else:
        def call(self, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(logs)
    call.__name__ = hook
    return call


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _forward(_hook, "epoch_" in _hook or "batch_" in _hook))


class History(Callback):
    """Records the epoch logs: history[name] is the list of per-epoch values, epoch the epoch
    numbers. fit returns it (also as model.history)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def set_model(self, model):
        super().set_model(model)
        model.history = self

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


class ProgbarLogger(Callback):
    """Prints "Epoch i/n" and drives a Progbar (pynn.utils) for fit, evaluate and predict."""

    def __init__(self):
        super().__init__()
        self.progbar = None
        self._in_fit = False

    def _start(self):
        self.progbar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1), unit_name="step")

    def _show(self, batch, logs, finalize=False):
        values = [(k, v) for k, v in (logs or {}).items() if isinstance(v, (int, float))]
        self.progbar.stateful_metrics = {k for k, _ in values}  # the model's logs are already running means
        self.progbar.update(batch, values, finalize=finalize)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Epoch {epoch + 1}/{self.params.get('epochs')}", flush=True)
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._show(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._show(self.progbar._seen, logs, finalize=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._show(batch + 1, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._show(self.progbar._seen, logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._show(batch + 1, {})

    def on_predict_end(self, logs=None):
        self._show(self.progbar._seen, {}, finalize=True)


def _resolve_mode(mode, monitor, owner):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        return "max" if name in ("acc", "accuracy", "auc") or name.endswith(("accuracy", "_acc", "auc")) else "min"
    return mode


def _better(mode, value, reference, min_delta=0.0):
    if reference is None:
        return True
    return value < reference - min_delta if mode == "min" else value > reference + min_delta


class EarlyStopping(Callback):
    """Stops training when `monitor` has not improved by more than min_delta for `patience`
    epochs (Keras' semantics). mode "auto" maximises accuracy- and auc-like names and
    minimises the rest. baseline: training stops unless the monitor beats it within
    patience epochs. restore_best_weights: the weights of the best epoch are put back
    when training stops (and at the end, if the last epoch was not the best).
    start_from_epoch: epochs before this one are not watched.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # the first watched epoch is the best so far
        self.wait += 1
        if _better(self.mode, value, self.best, self.min_delta):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or _better(self.mode, value, self.baseline, self.min_delta):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model (model.save) or its weights (save_weights_only: model.save_weights) after
    every epoch, or every `save_freq` batches when it is an int. filepath may hold format
    fields filled from epoch (counted from 1) and the logs: "ckpt-{epoch:02d}-{val_loss:.2f}.npz".
    save_best_only keeps a file only when `monitor` improves (mode as in EarlyStopping)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch" and (not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._batches = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self._epoch, logs, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def _save(self, epoch, logs, batch=None):
        logs = logs or {}
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields["batch"] = batch + 1
        path = self.filepath.format(**fields)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping. Available: "
                              f"{','.join(logs)}", stacklevel=2)
                return
            if not _better(self.mode, value, self.best):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                previous = "inf" if self.best is None and self.mode == "min" else (
                    "-inf" if self.best is None else f"{self.best:.5f}")
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {previous} to {value:.5f}, saving model "
                      f"to {path}")
            self.best = value
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LambdaCallback(Callback):
    """A callback from functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...). Any hook
    can be given by its name."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in given.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; hooks: {list(_HOOKS)}")
            if fn is not None:
                setattr(self, name, fn)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to schedule(epoch, lr) at the start of each epoch."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.schedule(epoch, float(self.model.optimizer.learning_rate))
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite number, got {lr!r}")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
