"""Keras-style callbacks: objects whose hooks fit, evaluate and predict call at fixed points.

The order within fit (Keras 3's): on_train_begin; per epoch on_epoch_begin, per
batch on_train_batch_begin(batch) / on_train_batch_end(batch, logs), then
on_epoch_end(epoch, logs); finally on_train_end(logs). Batch logs hold the
running means of the loss and metrics over the epoch so far; epoch logs hold the
epoch's values plus "val_"-prefixed validation results. evaluate calls the
on_test_* hooks and predict the on_predict_* hooks. Epochs and batches are
counted from 0. A callback reaches the model through self.model and may end
training by setting self.model.stop_training = True; the model checks it after
every batch and every epoch.

Every callback in a CallbackList receives the same logs dict, in list order, so
a callback may add entries for the ones after it (LearningRateScheduler adds
"learning_rate" for History and the progress bar, which come last).
"""

import inspect
import math
import numbers
import os
import sys
import warnings

import numpy as np

from .utils import Progbar

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint", "LambdaCallback",
    "LearningRateScheduler", "TerminateOnNaN",
]

# The hooks a CallbackList forwards, and which of them take an epoch or batch index first.
_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
    "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end",
)
# Keras' older names for on_train_batch_begin/_end; the base class forwards to them.
_ALIASES = ("on_batch_begin", "on_batch_end")


def _print_msg(message):
    """Prints a callback's message on a line of its own: a progress bar left unfinished
    on a terminal gets its newline first (Note [Open progress line] in pynn.utils)."""
    if Progbar._line_open:
        sys.stdout.write("\n")
        Progbar._line_open = False
    print(message, flush=True)


class Callback:
    """The base class: every hook does nothing.

    Attributes set by CallbackList: `model` (the model being trained, evaluated
    or run) and `params` (a dict; fit gives verbose, epochs and steps, the number
    of batches per epoch). Subclasses override the hooks they need:

    - on_train_begin/on_train_end(logs), on_test_begin/on_test_end(logs),
      on_predict_begin/on_predict_end(logs);
    - on_epoch_begin/on_epoch_end(epoch, logs);
    - on_train_batch_begin/_end(batch, logs), on_test_batch_begin/_end(batch, logs),
      on_predict_batch_begin/_end(batch, logs).

    As in Keras, the default on_train_batch_begin/_end call on_batch_begin/_end,
    the older names, so a callback overriding those still runs.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None):
        """Keras' older name for on_train_batch_begin."""

    def on_batch_end(self, batch, logs=None):
        """Keras' older name for on_train_batch_end."""

    def on_train_begin(self, logs=None):
        """Called once when fit starts."""

    def on_train_end(self, logs=None):
        """Called once when fit ends; logs are the last epoch's."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each training epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each training epoch with its logs (validation included)."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the epoch's running logs."""
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        """Called when evaluate starts."""

    def on_test_end(self, logs=None):
        """Called when evaluate ends, with its logs."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch with the running logs."""

    def on_predict_begin(self, logs=None):
        """Called when predict starts."""

    def on_predict_end(self, logs=None):
        """Called when predict ends."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch; logs hold {"outputs": ...}."""


class CallbackList:
    """Holds callbacks and calls each hook on every one of them, in list order.

    callbacks: a list of Callback instances (or one). add_history /
    add_progbar: append a History / a ProgbarLogger unless the list already has
    one (History first, then ProgbarLogger, as Keras does, so both see entries
    that earlier callbacks add to the logs). model: given to every callback's
    set_model (and model.history is set to the History). **params: given to every
    callback's set_params (fit passes verbose, epochs, steps).

    Every hook takes the same arguments as Callback's; logs=None becomes {} and
    the one dict is passed to every callback.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        if isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"CallbackList: callbacks must be pynn.callbacks.Callback instances, "
                                f"got {type(cb).__name__}")
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if add_history and self.history is None:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.model = None
        self.set_model(model)
        self.set_params(params)

    def set_model(self, model):
        """Gives every callback the model (nothing happens for None)."""
        if model is None:
            return
        self.model = model
        if self.history is not None:
            model.history = self.history
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def append(self, callback):
        """Adds a callback at the end, giving it the model and params."""
        if not isinstance(callback, Callback):
            raise TypeError(f"CallbackList: callbacks must be pynn.callbacks.Callback instances, "
                            f"got {type(callback).__name__}")
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        callback.set_params(self.params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", _logs(logs))

    def on_train_end(self, logs=None):
        self._call("on_train_end", _logs(logs))

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, _logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, _logs(logs))

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, _logs(logs))

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, _logs(logs))

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", _logs(logs))

    def on_test_end(self, logs=None):
        self._call("on_test_end", _logs(logs))

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, _logs(logs))

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, _logs(logs))

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", _logs(logs))

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", _logs(logs))

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, _logs(logs))

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, _logs(logs))


def _logs(logs):
    return {} if logs is None else logs


class History(Callback):
    """Records the epoch logs; fit returns it (it is also model.history).

    history: name -> list of per-epoch values, in the order the epochs ran.
    epoch: the epoch numbers recorded in the latest fit.

    As in Keras 3, on_train_begin clears `epoch` but not `history`: a History
    passed to several fits keeps appending to the same lists (fit makes a new
    History each time unless one is passed in callbacks).
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)
        if self.model is not None:
            self.model.history = self

    def plot(self, metrics=None, path=None, title=None):
        """The learning curves as a matplotlib Figure: pynn.utils.plot_history(self, ...)."""
        from .plotting import plot_history

        return plot_history(self, metrics=metrics, path=path, title=title)


class ProgbarLogger(Callback):
    """Prints fit's, evaluate's and predict's progress with a pynn.utils.Progbar.

    Reads params["verbose"] (0 silent, 1 a bar, 2 a line per epoch; "auto" is 1),
    params["epochs"] and params["steps"] (batches per epoch; None if unknown).
    In fit, "Epoch i/n" is printed before each epoch, the bar advances after
    every training batch (current = batch + 1) and the epoch's line is finalized
    with the epoch logs, validation entries included. The model's logs are
    already running means, so every entry is shown as given (a stateful metric
    of the Progbar), in alphabetical order. Outside fit, evaluate (on_test_*)
    and predict (on_predict_*) get a bar of their own; inside fit the model
    runs validation without calling this logger.

    The final line shows the batches actually run: when training stops
    mid-epoch it reads e.g. "3/469" with a partly filled bar.
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs is not None and self.epochs > 1:  # Keras 3: no "Epoch 1/1"
            _print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # the predictions are not shown

    def on_predict_end(self, logs=None):
        self._finalize_progbar(None)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def _update_progbar(self, batch, logs):
        if self.progbar is None:
            self._reset_progbar()
        self.seen = batch + 1
        if self.verbose == 1:  # verbose=2 prints only the final line: skip the bookkeeping
            self._show(logs, finalize=False)

    def _finalize_progbar(self, logs):
        if self.progbar is None:
            self._reset_progbar()
        if self.progbar.target is None:
            self.progbar.target = self.seen
        self._show(logs, finalize=True)

    def _show(self, logs, finalize):
        values = [(name, value) for name, value in (logs or {}).items() if _is_number(value)]
        self.progbar.stateful_metrics.update(name for name, _ in values)
        self.progbar.update(self.seen, values, finalize=finalize)


def _is_number(value):
    return isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0)


def _monitor_op(mode, monitor, owner):
    """np.less (lower is better) or np.greater for `mode` ("auto", "min" or "max").

    "auto" picks np.greater for names, less a "val_" prefix, that measure
    something to maximise: accuracy-like ("acc" in the name), auc, precision,
    recall, f1/fbeta; everything else (losses, errors) is minimised.
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be one of 'auto', 'min', 'max', got {mode!r}")
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    name = monitor[len("val_"):] if monitor.startswith("val_") else monitor
    higher_is_better = ("acc", "auc", "precision", "recall", "f1", "fbeta")
    return np.greater if any(word in name for word in higher_is_better) else np.less


def _check_int(value, name, owner, minimum=0):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


class EarlyStopping(Callback):
    """Stops training when the monitored quantity stops improving (Keras 3's rules).

    monitor: the logs entry watched at each epoch's end. mode: "min", "max" or
    "auto" (maximise accuracy/auc-like names, minimise the rest; see
    `monitor_op`). min_delta: a value improves on the best only if it is better
    by more than abs(min_delta). patience: epochs without improvement after which
    training stops (0: stop at the first epoch that does not improve).
    baseline: if given, an improvement resets the patience count only when it
    also beats the baseline by min_delta, so training stops after `patience`
    epochs unless the baseline is beaten. restore_best_weights: keep the weights
    (model.get_weights()) of the best epoch and put them back (set_weights) when
    training ends, whether it was stopped or ran to the last epoch (Keras 3).
    start_from_epoch: epochs before this one are not watched (warm-up).

    The rule at each watched epoch: wait += 1; if the value improves on the
    best, it becomes the best (and wait = 0 when the baseline, if any, is
    beaten); otherwise, once wait >= patience (and epoch > 0), training stops:
    stopped_epoch = epoch, model.stop_training = True. A missing monitor only
    warns, naming the entries that are available.

    After training: stopped_epoch (0 if not stopped), best, best_epoch,
    best_weights. verbose=1 prints "Epoch N: early stopping" and
    "Restoring model weights from the end of the best epoch: N." (counted from 1).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.mode = mode
        self.monitor_op = _monitor_op(mode, monitor, "EarlyStopping")
        self.min_delta = abs(min_delta)
        self.patience = _check_int(patience, "patience", "EarlyStopping")
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = _check_int(start_from_epoch, "start_from_epoch", "EarlyStopping")
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        # a callback may be used for several fits: each starts afresh
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs)}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # the first watched epoch is the best so far, even if its value is NaN
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def _is_improvement(self, value, reference):
        """value beats reference by more than min_delta in the monitored direction (None: always)."""
        if reference is None:
            return True
        if self.monitor_op is np.less:
            return bool(value + self.min_delta < reference)
        return bool(value - self.min_delta > reference)


class ModelCheckpoint(Callback):
    """Saves the model, or only its weights, during training.

    filepath: where to save; it may hold format fields, filled with epoch
    (counted from 1), batch (counted from 1, for batch-level saves) and the logs'
    entries: "ckpt-{epoch:02d}-{val_loss:.2f}.weights.npz". Its directory is
    created if missing. save_weights_only: model.save_weights(path), else
    model.save(path). save_freq: "epoch" saves at each epoch's end; an int N
    saves after every N training batches (counted across epochs), with the
    batch logs. save_best_only: save only when `monitor` improves on the best
    value seen so far (mode as in EarlyStopping; the best starts at
    initial_value_threshold, else +-inf, and carries over between fits); when
    the monitor is missing from the logs it warns and does not save.
    verbose=1 prints Keras' messages, e.g. "Epoch 1: val_loss improved from inf
    to 0.12345, saving model to ckpt.npz".
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            _check_int(save_freq, "save_freq (when not 'epoch')", "ModelCheckpoint", minimum=1)
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = mode
        self.monitor_op = _monitor_op(mode, monitor, "ModelCheckpoint")
        self.save_freq = save_freq
        if initial_value_threshold is not None:
            self.best = initial_value_threshold
        else:
            self.best = np.inf if self.monitor_op is np.less else -np.inf
        self._batches_since_save = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save_model(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs or {})

    def _file_path(self, epoch, batch, logs):
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f'ModelCheckpoint: failed to format the filepath "{self.filepath}": no value for {e}; '
                           f"available: {', '.join(fields)}") from None

    def _save_model(self, epoch, batch, logs):
        path = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping. "
                              f"Available metrics are: {','.join(logs)}", stacklevel=3)
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    _print_msg(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                _print_msg(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                           f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            _print_msg(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LambdaCallback(Callback):
    """A callback made of functions, one per hook:
    LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"])).

    on_epoch_begin/_end take (epoch, logs); on_train_begin/_end take (logs);
    on_train_batch_begin/_end take (batch, logs). Any other hook of Callback can
    be given by its name as a keyword argument (e.g. on_test_end=...); an unknown
    name is a TypeError. Hooks given as None stay no-ops.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        unknown = [name for name in kwargs if name not in _HOOKS + _ALIASES]
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook {unknown[0]!r}; the hooks are {', '.join(_HOOKS)}")
        hooks = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: {name} must be callable, got {type(fn).__name__}")
                setattr(self, name, fn)


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch:
    model.optimizer.learning_rate = float(schedule(epoch, lr)), where lr is the
    current rate (a schedule taking one argument is called as schedule(epoch)).
    The schedule must return a finite real number, else ValueError. At each
    epoch's end the rate is added to the logs as "learning_rate" (so History
    records it), as Keras 3 does. verbose=1 prints
    "Epoch N: LearningRateScheduler setting learning rate to LR.".
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_args(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('LearningRateScheduler: the optimizer must have a "learning_rate" attribute')
        if self._takes_lr:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            lr = self.schedule(epoch)
        if not isinstance(lr, numbers.Real) or isinstance(lr, bool) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite number, "
                             f"got {lr!r} at epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            _print_msg(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _accepts_two_args(fn):
    """Whether fn can be called with two positional arguments (True if it cannot be told)."""
    try:
        inspect.signature(fn).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature available (some builtins)
        return True
    return True


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite: prints
    "Batch N: Invalid loss, terminating training" and sets model.stop_training."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            _print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
