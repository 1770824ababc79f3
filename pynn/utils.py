"""Utilities: numerical gradient checking, the progress bar, set_random_seed, to_categorical,
normalize, split_dataset, plot_history and show_images (pynn.plotting)."""

import random as _random
import re
import sys
import time

import numpy as np

from . import _core
from .autograd import GradientTape
from .plotting import plot_history, show_images

__all__ = ["gradcheck", "GradcheckError", "Progbar", "set_random_seed", "snake_case", "clear_session",
           "to_categorical", "normalize", "PyDataset", "split_dataset", "plot_history", "show_images"]


_DOCUMENTED = (ValueError, TypeError, IndexError, OverflowError, MemoryError)


def named_error(op, e):
    """A new exception for `e` whose message starts with the public name `op` (a message
    already naming op is kept as it is): of e's own type when it is one of Python's
    (ZeroDivisionError stays one), else of the nearest documented class (NumPy's
    subclasses, AxisError or _UFuncNoLoopError, take other constructor arguments).
    Use as `raise named_error(op, e) from e`."""
    msg = str(e)
    if not msg.startswith(f"{op}:"):
        msg = f"{op}: {msg}"
    if type(e).__module__ == "builtins":
        return type(e)(msg)
    return next((c for c in _DOCUMENTED if isinstance(e, c)), ValueError)(msg)


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compares the tape's gradient of fn(*inputs) with central differences.

    inputs: tensors or arrays (converted to float64 copies). The target is
    sum(fn(*inputs)), so fn may return any shape. Every element of every
    input is perturbed by +-eps in float64. Returns True, or raises
    GradcheckError naming the input, the worst element and both values.
    """
    xs = [_core._copy_from(np.asarray(x, dtype=np.float64)) for x in inputs]

    def total(*args):
        y = fn(*args)
        return float(np.sum(np.asarray(y, dtype=np.float64)))

    with GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = fn(*xs)
    analytic = tape.gradient(y, xs)
    for i, x in enumerate(xs):
        a = np.zeros(x.shape) if analytic[i] is None else np.asarray(analytic[i], dtype=np.float64)
        base = np.array(x, dtype=np.float64)
        numeric = np.zeros_like(base)
        flat = numeric.reshape(-1)
        for j in range(base.size):
            idx = np.unravel_index(j, base.shape)
            old = base[idx]
            x[idx] = old + eps
            up = total(*xs)
            x[idx] = old - eps
            down = total(*xs)
            x[idx] = old
            flat[j] = (up - down) / (2 * eps)
        err = np.abs(a - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            k = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), base.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {base.shape}) element {tuple(int(v) for v in k)}: "
                f"analytic {a[k]:.10g} vs numerical {numeric[k]:.10g} (|diff| {err[k]:.3g}, "
                f"atol {atol}, rtol {rtol}); {int(bad.sum())} of {base.size} elements differ"
            )
    return True


def set_random_seed(seed):
    """Seeds everything random in pynn (same as pynn.random.seed; Keras' name)."""
    from . import random

    random.seed(seed)


def clear_session():
    """Resets pynn's global state as Keras' clear_session does: the automatic layer names
    start again (dense, dense_1, ...). Existing layers and models keep their names."""
    from .layers import base

    base.reset_names()


def __getattr__(name):
    if name == "PyDataset":  # Keras' home of the class (pynn/data.py; imported late: data imports tensor)
        from .data import PyDataset

        return PyDataset
    raise AttributeError(f"module 'pynn.utils' has no attribute {name!r}")


def to_categorical(x, num_classes=None):
    """One-hot rows for class indices, the class axis last (Keras' to_categorical).

    x: integers in [0, num_classes) of any shape; a last axis of size 1 is dropped. num_classes
    defaults to max(x) + 1. A NumPy array or list gives a float64 NumPy array, as Keras
    does; a pynn Tensor gives a float32 Tensor. A class outside [0, num_classes) is a
    ValueError (Keras lets NumPy wrap a negative one).
    """
    from .tensor import Tensor, tensor

    is_tensor = isinstance(x, Tensor)
    try:
        labels = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise named_error("to_categorical", e) from e
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: expected integer class indices, got an array of dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 0:
        raise ValueError(f"to_categorical: num_classes must be a non-negative int, got {num_classes!r}")
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(f"to_categorical: class indices must be in [0, {num_classes}), got values from "
                         f"{flat.min()} to {flat.max()}")
    out = np.zeros((flat.size, int(num_classes)), dtype=np.float32 if is_tensor else np.float64)
    out[np.arange(flat.size), flat] = 1
    out = out.reshape(shape + (int(num_classes),))
    return tensor(out) if is_tensor else out


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (a zero norm divides by 1), as Keras'
    normalize: a NumPy array gives a NumPy array, a Tensor a Tensor."""
    from .tensor import Tensor, tensor

    is_tensor = isinstance(x, Tensor)
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"normalize: expected a numeric array, got dtype {a.dtype}")
    norm = np.atleast_1d(np.linalg.norm(a, order, axis))
    norm[norm == 0] = 1
    out = a / np.expand_dims(norm, axis)
    return tensor(out.astype(a.dtype if a.dtype.kind == "f" else np.float32)) if is_tensor else out


class Progbar:
    """Keras 3's progress bar.

    ``469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9661 - loss: 0.1168``

    target: the number of steps, or None when unknown. width: cells in the bar.
    verbose: 0 silent; 1 a bar; 2 one summary line at the end,
    ``469/469 - 2s - 4ms/step - accuracy: 0.9661 - loss: 0.1168``. interval: on a
    terminal, the bar is redrawn at most once per `interval` seconds (the final
    draw is never skipped). stateful_metrics: names whose values are shown as
    given; every other name shows the mean of its values over the steps seen
    (a value given at step `current` counts for the `current - previous` steps
    it covers). unit_name: the word after the time per unit ("4ms/step").

    Display, as Keras 3 draws it:

    - verbose=1 on an interactive terminal (``self._dynamic_display``, from
      ``sys.stdout.isatty()`` at construction): the line is redrawn in place
      (carriage return, then spaces over what is left of a longer previous
      line), styled with ANSI codes (bold count and time, green done cells,
      dim pending cells); a newline follows the final draw.
    - verbose=1 elsewhere (a pipe, a log file, a captured stream): only the
      final line is printed, without ANSI codes (pending cells show as "─").
    - the bar has ``int(width * current / target)`` done cells (Keras 3 has no
      half-done cell). The time field is the ETA while running and the elapsed
      time once finalized (or when the target is unknown). The time per unit
      leaves out the first step (which includes warm-up) once there are more.
    - metric values print as ``f"{v:.4f}"``, or ``f"{v:.4e}"`` when
      ``abs(v) <= 1e-3``, in alphabetical order of their names.

    Output goes to ``sys.stdout`` as it is at the time of the call.
    """

    # Note [Open progress line]
    # A redraw in place leaves the cursor at the end of an unfinished line. A
    # callback that prints a message mid-epoch (ModelCheckpoint, TerminateOnNaN)
    # must first end that line, or its text lands after the bar. There is one
    # stdout, so the fact is kept on the class: True while some Progbar has drawn
    # an unfinished line in place. pynn.callbacks' message printer reads it.
    _line_open = False

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        isatty = getattr(sys.stdout, "isatty", None)
        self._dynamic_display = bool(isatty and isatty())
        self._values = {}  # name -> [sum of value * steps, steps]; a stateful name holds [value, 1]
        self._seen_so_far = 0
        self._start = time.monotonic()
        self._last_update = float("-inf")  # when the line was last drawn
        self._time_after_first_step = None
        self._prev_width = 0  # visible width of the last line drawn in place

    def update(self, current, values=None, finalize=None):
        """Records the progress `current` (steps done) and `values`, a list of
        (name, value) pairs, then draws if the display calls for it.

        finalize: whether this is the last update; None means
        ``current >= target`` (never, when the target is unknown).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            value = float(value)
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
            else:
                steps = max(current - self._seen_so_far, 1)
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += value * steps
                total[1] += steps
        self._seen_so_far = current

        now = time.monotonic()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if self._dynamic_display:
                if not finalize and now - self._last_update < self.interval:
                    return
                self._draw_in_place(self._bar_line(current, now, time_per_unit, finalize, styled=True), finalize)
            elif finalize:
                self._print_line(self._bar_line(current, now, time_per_unit, finalize, styled=False))
        elif self.verbose == 2 and finalize:
            self._print_line(self._summary_line(current, now, time_per_unit))
        self._last_update = now

    def add(self, n, values=None):
        """update(steps seen so far + n, values)."""
        self.update(self._seen_so_far + n, values)

    # ------------------------------------------------------------ building the line
    def _known_target(self):
        return self.target is not None and self.target > 0

    def _bar_line(self, current, now, time_per_unit, finalize, styled):
        """The verbose=1 line: count, bar, ETA or elapsed time, time per unit, metrics."""
        bold = _style("1", styled)
        if self._known_target():
            digits = len(str(self.target))
            count = bold(f"{current:>{digits}}/{self.target}")
            done = min(max(int(self.width * current / self.target), 0), self.width)
            pending = self.width - done
            if styled:
                bar = _style("32", done > 0)("━" * done) + _style("2", pending > 0)("━" * pending)
            else:
                bar = "━" * done + "─" * pending
            head = f"{count} {bar}"
        else:
            head = bold(f"{current:>7}/Unknown")
        if self._known_target() and not finalize:
            when = _format_eta(time_per_unit * (self.target - current))
        else:
            when = f"{now - self._start:.0f}s"
        return f"{head} {bold(when)} {_format_per_unit(time_per_unit, self.unit_name)}{self._metrics_text()}"

    def _summary_line(self, current, now, time_per_unit):
        """The verbose=2 line: count - elapsed - time per unit - metrics."""
        if self._known_target():
            count = f"{current:>{len(str(self.target))}}/{self.target}"
        else:
            count = f"{current}/Unknown"
        elapsed = f"{now - self._start:.0f}s"
        return f"{count} - {elapsed} - {_format_per_unit(time_per_unit, self.unit_name)}{self._metrics_text()}"

    def _metrics_text(self):
        return "".join(f" - {name}: {_format_value(total / max(count, 1))}"
                       for name, (total, count) in sorted(self._values.items()))

    def _estimate_step_duration(self, current, now):
        """Seconds per step. The first step (warm-up) is left out once more steps are done."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    # ------------------------------------------------------------ writing
    def _draw_in_place(self, line, finalize):
        width = len(_ANSI_CODE.sub("", line))
        out = sys.stdout
        out.write("\r" + line + " " * max(self._prev_width - width, 0) + ("\n" if finalize else ""))
        out.flush()
        self._prev_width = 0 if finalize else width
        Progbar._line_open = not finalize

    def _print_line(self, line):
        out = sys.stdout
        out.write(line + "\n")
        out.flush()


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def _style(code, enabled):
    """A function wrapping text in the ANSI style `code` (bold "1", green "32", dim "2"), or
    returning it unchanged when not enabled."""
    if not enabled:
        return lambda text: text
    return lambda text: f"\x1b[{code}m{text}\x1b[0m"


def _format_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _format_eta(seconds):
    """Keras' ETA: h:mm:ss above an hour, m:ss above a minute, else whole seconds (truncated)."""
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_unit(seconds, unit_name):
    """Keras' time per unit: "2s/step" (>= 1 s, or 0), "4ms/step" (>= 1 ms), else "120us/step"."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def snake_case(name):
    """Keras' default object names from class names: MeanSquaredError -> mean_squared_error,
    KLDivergence -> kl_divergence, ReLU -> re_lu, Conv2D -> conv2d."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _split_sizes(left_size, right_size, total):
    """(left, right) sample counts from split_dataset's sizes, with Keras 3's checks and rounding."""
    lt, rt = type(left_size), type(right_size)
    bad_l = left_size is not None and lt not in (int, float)
    bad_r = right_size is not None and rt not in (int, float)
    if bad_l and bad_r:
        raise TypeError(f"split_dataset: invalid `left_size` and `right_size` types. Expected: int or float "
                        f"or None. Received: type(left_size)={lt} and type(right_size)={rt}")
    if bad_l:
        raise TypeError(f"split_dataset: invalid `left_size` type. Expected: int or float or None. "
                        f"Received: type(left_size)={lt}")
    if bad_r:
        raise TypeError(f"split_dataset: invalid `right_size` type. Expected: int or float or None. "
                        f"Received: type(right_size)={rt}")
    if left_size == 0 and right_size == 0:
        raise ValueError("split_dataset: both `left_size` and `right_size` are zero. At least one of the "
                         "split sizes must be non-zero.")
    for name, size, t in (("left_size", left_size, lt), ("right_size", right_size, rt)):
        if (t is int and not 0 < size < total) or (t is float and not 0 < size < 1):
            raise ValueError(f"split_dataset: `{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. Received: {name}={size}")
    if lt is float and rt is float and left_size + right_size > 1:
        raise ValueError("split_dataset: the sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    left = round(left_size * total) if lt is float else left_size
    right = round(right_size * total) if rt is float else right_size
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"split_dataset: the sum of `left_size` and `right_size` should be smaller than "
                         f"the {total}. Received: left_size + right_size = {left + right} and "
                         f"total_length = {total}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"split_dataset: with `dataset` of length={total}, `left_size`={left} and "
                             f"`right_size`={right}, the resulting {side} side dataset split would be "
                             f"empty. Adjust any of these parameters.")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits a data set into a left and a right part (e.g. train / test), as Keras 3's
    keras.utils.split_dataset does for in-memory NumPy data.

    dataset: a NumPy array (split along its first axis), or a tuple or list of NumPy arrays of
    the same length (e.g. (x, y)). left_size / right_size: an int is a number of samples (in
    (0, len)), a float a fraction (in (0, 1), rounded to the nearest count); a None side gets
    the rest. When both are given and sum to less than the data set, the samples between the
    two parts belong to neither (left takes the first, right the last samples). shuffle: permute
    the samples first with Python's random.Random(seed) (the permutation Keras' random.seed(seed);
    random.shuffle gives; pynn does not reseed the global generator). seed None draws one.

    Returns (left, right). Unlike Keras, which returns tf.data.Dataset (or torch) objects, pynn
    returns NumPy data: arrays for an array, tuples of arrays for a tuple or list. tf.data,
    torch and grain data sets are not supported (TypeError). The errors are Keras': TypeError
    for a size that is not an int, float or None; ValueError for both sizes None, a size out
    of range, sizes summing past the data set or leaving a side empty, an empty data set, a
    non-array element or arrays of different lengths.
    """
    if isinstance(dataset, (tuple, list)):
        kind = "tuple" if isinstance(dataset, tuple) else "list"
        if len(dataset) == 0:
            raise ValueError(f"split_dataset: received an empty {kind} dataset. Please provide a non-empty "
                             f"{kind} of arrays.")
        for i, a in enumerate(dataset):
            if not isinstance(a, np.ndarray):
                raise ValueError(f"split_dataset: expected a {kind} of `numpy.ndarray` objects. "
                                 f"Received: {type(a)} at index {i}.")
            if a.ndim == 0:
                raise ValueError(f"split_dataset: the {kind}'s arrays need a first (sample) axis; index {i} "
                                 f"is a 0-d array")
            if a.shape[0] != dataset[0].shape[0]:
                raise ValueError(f"split_dataset: received a {kind} of NumPy arrays with different lengths. "
                                 f"Mismatch found at index {i}: expected shape={dataset[0].shape}, received "
                                 f"shape={a.shape}. Please provide a {kind} of NumPy arrays of the same length.")
        total = dataset[0].shape[0]
    elif isinstance(dataset, np.ndarray):
        if dataset.ndim == 0:
            raise ValueError("split_dataset: a 0-d array has no samples to split; `dataset` needs a first "
                             "(sample) axis")
        total = dataset.shape[0]
    else:
        names = [c.__module__ + "." + c.__name__ for c in type(dataset).__mro__]
        other = (" (tf.data, torch and grain data sets are not supported by pynn: convert the data to "
                 "NumPy arrays first)" if any(n.startswith(("tensorflow", "torch", "grain")) for n in names)
                 else "")
        raise TypeError(f"split_dataset: the `dataset` argument must be a NumPy array or a list/tuple of "
                        f"NumPy arrays{other}. Received: dataset of type {type(dataset)}")
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: at least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    if total == 0:
        raise ValueError("split_dataset: received an empty dataset. Argument `dataset` must hold at least "
                         "one sample.")
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = _random.randint(0, int(1e6))
        _random.Random(seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    left_idx, right_idx = np.array(order[:left]), np.array(order[-right:])
    if isinstance(dataset, np.ndarray):
        return dataset[left_idx], dataset[right_idx]
    return tuple(a[left_idx] for a in dataset), tuple(a[right_idx] for a in dataset)
