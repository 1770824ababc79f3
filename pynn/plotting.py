"""Pictures of training: learning curves (plot_history) and image grids (show_images).

matplotlib is an optional extra (pip install "pynn[plot]"); it is imported only when a
function here is called, so `import pynn` never needs it. Both functions return the
matplotlib Figure (made with pyplot, so a notebook shows it and plt.close(fig) frees it)
and, given path=, save it atomically: written to a temporary file in the same folder,
then renamed over path, so a reader never sees a half-written picture.
"""

import numbers
import os
import secrets

import numpy as np

__all__ = ["plot_history", "show_images"]

_INSTALL = 'pip install "pynn[plot]"'


def _pyplot(op):
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(f"{op}: needs matplotlib, which is not installed: {_INSTALL}") from e
    return plt


def _save(fig, path, op):
    """fig -> path in the format its extension names (PNG without one), via a temporary
    file in path's folder renamed over path. On failure the figure, which the caller
    never gets, is closed."""
    try:
        _write(fig, path, op)
    except BaseException:
        import matplotlib.pyplot as plt

        plt.close(fig)
        raise


def _write(fig, path, op):
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    fmt = ext or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"{op}: cannot save {path!r}: unknown image format {fmt!r}; "
                         f"supported: {', '.join(sorted(supported))}")
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.pynn-tmp-{os.getpid()}-{secrets.token_hex(8)}")
    try:
        with open(tmp, "xb") as f:
            fig.savefig(f, format=fmt)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _values(name, seq, op):
    try:
        v = np.asarray([float(x) for x in seq], dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: history[{name!r}] must be a sequence of numbers, got {seq!r}") from None
    return v


def plot_history(history, metrics=None, path=None, title=None):
    """Learning curves: one subplot per metric, training against validation, per epoch.

    history: a pynn.callbacks.History (what fit returns) or its .history dict
    (name -> list of per-epoch values). metrics: a name or a list of names; None means
    every key without the "val_" prefix, "loss" first, the others in the history's order.
    Each subplot draws history[name] (label "training") and, when present,
    history["val_" + name] (label "validation") against the epochs 1..n, with the
    metric's name as title and y label and "Epoch" as x label. title: the figure's
    title. path: where to save the figure (the extension picks the format, PNG when
    there is none). Returns the matplotlib Figure.

    Unknown metric names: ValueError naming the available ones. A validation list
    whose length differs from the training one (fit with validation_freq != 1) is a
    ValueError: the epochs it belongs to are not recorded in the history.
    """
    op = "plot_history"
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"{op}: expected a pynn.callbacks.History or its .history dict, "
                        f"got {type(history).__name__}")
    if not logs:
        raise ValueError(f"{op}: the history is empty (no epoch has been recorded)")
    available = [k for k in logs if not str(k).startswith("val_")]
    available.sort(key=lambda k: k != "loss")
    if metrics is None:
        names = available
        if not names:
            raise ValueError(f"{op}: the history holds only validation entries: {list(logs)}")
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        if not names:
            raise ValueError(f"{op}: metrics is empty; available: {available}")
        unknown = [m for m in names if m not in logs]
        if unknown:
            raise ValueError(f"{op}: unknown metric{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))}; available: {available}")
    curves = []
    for name in names:
        train = _values(name, logs[name], op)
        val = logs.get(f"val_{name}")
        if val is not None:
            val = _values(f"val_{name}", val, op)
            if len(val) != len(train):
                raise ValueError(f"{op}: {name!r} has {len(train)} epochs but 'val_{name}' has {len(val)} "
                                 f"(validation_freq != 1?); the history does not say which epochs "
                                 f"were validated")
        curves.append((name, train, val))

    plt = _pyplot(op)
    from matplotlib.ticker import MaxNLocator

    ncols = min(len(curves), 3)
    nrows = -(-len(curves) // ncols)
    fig = plt.figure(figsize=(4.8 * ncols, 3.6 * nrows))
    for i, (name, train, val) in enumerate(curves):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.plot(np.arange(1, len(train) + 1), train, "o-", label="training")
        if val is not None:
            ax.plot(np.arange(1, len(val) + 1), val, "s--", label="validation")
        ax.set_title(name)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        _save(fig, path, op)
    return fig


def _class_indices(name, y, n, op):
    """labels or predictions -> a 1-D array of n entries; a 2-D (n, k) array (one-hot
    labels, predicted probabilities) becomes its argmax per row, and a float (n, 1) array
    (a sigmoid's probabilities) 1 where above 0.5, else 0."""
    if y is None:
        return None
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] > 1:
        a = a.argmax(axis=1)
    elif a.ndim == 2 and a.shape[1] == 1:
        # one sigmoid output: a float is a probability, class 1 when above 0.5
        a = (a[:, 0] > 0.5).astype(np.int64) if a.dtype.kind == "f" else a[:, 0]
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{op}: {name} must have shape ({n},) or ({n}, num_classes) to match "
                         f"x's {n} images, got shape {np.asarray(y).shape}")
    return a


def _name(v, class_names, what, op):
    if class_names is None:
        return str(v.item() if isinstance(v, np.generic) else v)
    if not isinstance(v, (numbers.Integral, np.integer)) or not 0 <= int(v) < len(class_names):
        raise ValueError(f"{op}: {what} {v!r} is not an index into class_names "
                         f"({len(class_names)} names)")
    return str(class_names[int(v)])


def show_images(x, labels=None, predictions=None, class_names=None, ncols=8, path=None, max_images=64):
    """A grid of images, each titled with its label and predicted label; mistakes in red.

    x: (n, h, w) grayscale or (n, h, w, 1|3) channels-last images (a NumPy array, a
    pynn Tensor or anything np.asarray takes); integers are shown on 0..255, bools on
    0..1, floats in [0, 1] as they are and other floats scaled to each image's min..max.
    labels, predictions: n class indices each, or (n, num_classes) arrays (one-hot
    labels, predicted probabilities) read by argmax, or a float (n, 1) array (a sigmoid
    output) read as class 1 above 0.5. class_names: the names for the indices. The
    first min(n, max_images) images are drawn, ncols per row; a title reads "label",
    "pred: p" or both, and is red where prediction != label. path: where to save
    (format from the extension, PNG without one). Returns the Figure, with
    one axes per image in order.
    """
    op = "show_images"
    a = np.asarray(x)
    if a.dtype.kind not in "buif":
        raise TypeError(f"{op}: images must be numbers (uint8 or float), got dtype {a.dtype}")
    if not (a.ndim == 3 or (a.ndim == 4 and a.shape[-1] in (1, 3))):
        raise ValueError(f"{op}: x must have shape (n, h, w) or (n, h, w, 1|3) (channels last), "
                         f"got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0 or a.shape[2] == 0:
        raise ValueError(f"{op}: no image to show: x has shape {a.shape}")
    for arg, v in (("ncols", ncols), ("max_images", max_images)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or v < 1:
            raise ValueError(f"{op}: {arg} must be a positive int, got {v!r}")
    n = a.shape[0]
    y = _class_indices("labels", labels, n, op)
    p = _class_indices("predictions", predictions, n, op)
    shown = min(n, int(max_images))
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    titles = []
    for i in range(shown):
        parts = []
        if y is not None:
            parts.append(_name(y[i], class_names, "label", op))
        if p is not None:
            parts.append("pred: " + _name(p[i], class_names, "prediction", op))
        wrong = y is not None and p is not None and y[i] != p[i]
        titles.append(("\n".join(parts), wrong))

    plt = _pyplot(op)
    cols = min(int(ncols), shown)
    rows = -(-shown // cols)
    fig = plt.figure(figsize=(1.6 * cols, 1.9 * rows if titles[0][0] else 1.6 * rows))
    for i in range(shown):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = a[i]
        if img.dtype.kind in "iu":
            img = img.astype(np.float64) / 255.0
            lo, hi = 0.0, 1.0
        elif img.dtype.kind == "b":
            img = img.astype(np.float64)
            lo, hi = 0.0, 1.0
        else:
            img = img.astype(np.float64)
            finite = img[np.isfinite(img)]
            lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
            if lo >= 0.0 and hi <= 1.0:
                lo, hi = 0.0, 1.0
            elif hi == lo:
                hi = lo + 1.0
        if img.ndim == 2:
            ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        else:
            ax.imshow(np.clip((img - lo) / (hi - lo), 0.0, 1.0), interpolation="nearest")
        ax.set_axis_off()
        text, wrong = titles[i]
        if text:
            ax.set_title(text, fontsize=8, color="red" if wrong else "black")
    fig.tight_layout()
    if path is not None:
        _save(fig, path, op)
    return fig
