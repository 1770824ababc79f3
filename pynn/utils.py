"""Utilities: numerical gradient checking, the progress bar, set_random_seed."""

import re

import numpy as np

from . import _core
from .autograd import GradientTape

__all__ = ["gradcheck", "GradcheckError", "Progbar", "set_random_seed", "snake_case"]


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


class Progbar:
    """Keras 3's progress bar: ``469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9661 - loss: 0.1168``.

    target: the number of steps (None if unknown). verbose=1 on a terminal
    redraws the line in place, at most every `interval` seconds, with the ETA in
    the time field; elsewhere it prints only the final line. verbose=2 prints
    one line at the end: ``469/469 - 2s - 4ms/step - accuracy: ...``. Values of
    names in stateful_metrics are shown as given; others are averaged over the
    steps seen. Names are shown in alphabetical order.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        import sys
        import time

        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._dynamic_display = sys.stdout.isatty()
        self._values = {}  # name -> [sum of value * steps, steps] or [value, 1]
        self._seen = 0
        self._start = time.time()
        self._last_draw = 0.0
        self._prev_width = 0
        self._time = time.time

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            value = float(value)
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
            else:
                steps = max(current - self._seen, 1)
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += value * steps
                total[1] += steps
        self._seen = current
        now = self._time()
        if self.verbose == 0:
            return
        if self.verbose == 1 and self._dynamic_display:
            if not finalize and now - self._last_draw < self.interval:
                return
            self._last_draw = now
            self._write(self._line(current, now, finalize), finalize, in_place=True)
        elif finalize:
            self._write(self._line(current, now, True), True, in_place=False)

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _line(self, current, now, finalize):
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        if self.target is not None:
            digits = len(str(self.target))
            count = f"{current:>{digits}}/{self.target}"
        else:
            count = f"{current}/Unknown"
        metrics = "".join(f" - {name}: {_format_value(v[0] / v[1])}" for name, v in sorted(self._values.items()))
        if self.verbose == 2:
            return f"{count} - {_format_time(elapsed)} - {_format_per_unit(per_unit, self.unit_name)}{metrics}"
        if self.target is not None:
            done = min(current / self.target, 1.0) if self.target else 1.0
            filled = int(done * self.width)
            bar = "━" * filled + ("\x1b[2m" + "━" * (self.width - filled) + "\x1b[0m" if filled < self.width else "")
        else:
            bar = ""
        if finalize or self.target is None:
            when = _format_time(elapsed)
        else:
            when = _format_time(per_unit * (self.target - current))
        parts = [count, bar, when, _format_per_unit(per_unit, self.unit_name)]
        return " ".join(p for p in parts if p) + metrics

    def _write(self, line, finalize, in_place):
        import sys

        out = sys.stdout
        if in_place:
            pad = max(self._prev_width - len(line), 0)
            out.write("\r" + line + " " * pad)
            self._prev_width = len(line)
            if finalize:
                out.write("\n")
        else:
            out.write(line + "\n")
        out.flush()


def _format_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _format_time(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s"


def _format_per_unit(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def snake_case(name):
    """Keras' default object names from class names: MeanSquaredError -> mean_squared_error,
    KLDivergence -> kl_divergence, ReLU -> re_lu."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
