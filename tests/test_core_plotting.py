"""pynn.utils.plot_history / History.plot / show_images: rendered with Agg to PNG files whose
headers are checked, and the figures' contents checked against the inputs."""

import os
import struct
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pynn
from pynn import layers
from pynn.callbacks import History
from pynn.utils import plot_history, show_images

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.figure
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba
except ImportError:  # only the ImportError test runs
    matplotlib = plt = None

needs_mpl = pytest.mark.skipif(matplotlib is None, reason='matplotlib is not installed: pip install "pynn[plot]"')

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if plt is not None:
        plt.close("all")


def png_size(path):
    """(width, height) from the IHDR chunk, which a PNG must start with."""
    with open(path, "rb") as f:
        head = f.read(33)
    assert head[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", head[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", head[16:24])


def expected_pixels(fig):
    w, h = fig.get_size_inches()
    return round(w * fig.dpi), round(h * fig.dpi)


def no_temporaries(folder, keep):
    assert sorted(os.listdir(folder)) == sorted(keep)


def logs(epochs=4, seed=0, val=True, extra=("accuracy",)):
    rng = np.random.default_rng(seed)
    out = {"loss": list(rng.random(epochs))}
    for m in extra:
        out[m] = list(rng.random(epochs))
    if val:
        for m in ["loss", *extra]:
            out[f"val_{m}"] = list(rng.random(epochs))
    return out


# -- plot_history -------------------------------------------------------------------


def check_curves(fig, history, names):
    assert [ax.get_title() for ax in fig.axes] == names
    for ax, name in zip(fig.axes, names):
        assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() == name
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        n = len(history[name])
        assert set(lines) == ({"training", "validation"} if f"val_{name}" in history else {"training"})
        np.testing.assert_array_equal(lines["training"].get_xdata(), np.arange(1, n + 1))
        np.testing.assert_array_equal(lines["training"].get_ydata(), np.asarray(history[name], np.float64))
        if f"val_{name}" in history:
            np.testing.assert_array_equal(lines["validation"].get_xdata(), np.arange(1, n + 1))
            np.testing.assert_array_equal(lines["validation"].get_ydata(),
                                          np.asarray(history[f"val_{name}"], np.float64))
        legend = ax.get_legend()
        assert legend is not None
        assert sorted(t.get_text() for t in legend.get_texts()) == sorted(lines)


@needs_mpl
@pytest.mark.parametrize("epochs", [1, 3, 7])
def test_plot_history_dict_all_metrics_loss_first(tmp_path, epochs):
    h = {"accuracy": [0.5] * epochs, "mae": list(np.linspace(2, 1, epochs)),
         "loss": list(np.linspace(1, 0.1, epochs))}
    h.update({f"val_{k}": [v + 0.1 for v in vs] for k, vs in list(h.items())[:2]})
    path = tmp_path / "curves.png"
    fig = plot_history(h, path=path)
    check_curves(fig, h, ["loss", "accuracy", "mae"])
    assert path.stat().st_size > 0
    assert png_size(path) == expected_pixels(fig)
    no_temporaries(tmp_path, ["curves.png"])


@needs_mpl
def test_history_plot_delegates_and_selects(tmp_path):
    hist = History()
    hist.history = logs(5, extra=("accuracy", "auc"))
    fig = hist.plot(metrics=["auc", "loss"], title="run 1", path=str(tmp_path / "h"))
    check_curves(fig, hist.history, ["auc", "loss"])
    assert fig._suptitle is not None and fig._suptitle.get_text() == "run 1"
    # no extension: PNG
    assert png_size(tmp_path / "h") == expected_pixels(fig)
    fig2 = plot_history(hist, metrics="accuracy")
    check_curves(fig2, hist.history, ["accuracy"])
    assert fig2._suptitle is None


@needs_mpl
def test_plot_history_from_fit(tmp_path):
    pynn.random.seed(1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 5)).astype("float32")
    y = (x.sum(1) > 0).astype("float32")
    model = pynn.Sequential([layers.Input(shape=(5,)), layers.Dense(4, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    fig = history.plot(path=tmp_path / "fit.png")
    check_curves(fig, history.history, ["loss", "accuracy"])
    assert png_size(tmp_path / "fit.png") == expected_pixels(fig)


@needs_mpl
def test_plot_history_other_format_and_overwrite(tmp_path):
    path = tmp_path / "c.svg"
    path.write_text("old")
    plot_history(logs(), path=path)
    text = path.read_text()
    assert "<svg" in text and text != "old"
    no_temporaries(tmp_path, ["c.svg"])
    plt.close("all")
    with pytest.raises(ValueError, match="unknown image format 'nope'.*png"):
        plot_history(logs(), path=tmp_path / "c.nope")
    no_temporaries(tmp_path, ["c.svg"])
    assert plt.get_fignums() == []


@needs_mpl
def test_plot_history_failed_save_leaves_no_temporary(tmp_path, monkeypatch):
    fig_cls = matplotlib.figure.Figure

    def broken(self, *a, **k):
        raise OSError("disk full")

    path = tmp_path / "x.png"
    path.write_bytes(b"previous")
    monkeypatch.setattr(fig_cls, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plot_history(logs(), path=path)
    assert path.read_bytes() == b"previous"
    no_temporaries(tmp_path, ["x.png"])
    assert plt.get_fignums() == []  # the figure the caller never got is closed


@needs_mpl
def test_plot_history_errors():
    with pytest.raises(ValueError, match=r"unknown metric 'acc'.*available: \['loss', 'accuracy'\]"):
        plot_history(logs(), metrics=["loss", "acc"])
    with pytest.raises(ValueError, match="empty"):
        plot_history({})
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())
    with pytest.raises(ValueError, match="only validation"):
        plot_history({"val_loss": [1.0]})
    with pytest.raises(ValueError, match="metrics is empty"):
        plot_history(logs(), metrics=[])
    with pytest.raises(TypeError, match="History"):
        plot_history([1.0, 2.0])
    with pytest.raises(TypeError, match="sequence of numbers"):
        plot_history({"loss": ["a"]})
    with pytest.raises(ValueError, match="validation_freq"):
        plot_history({"loss": [1.0, 0.5, 0.2, 0.1], "val_loss": [0.6, 0.3]})
    assert plt.get_fignums() == []


# -- show_images ----------------------------------------------------------------------


@pytest.mark.parametrize("shape,dtype", [((5, 8, 8), np.uint8), ((12, 7, 9, 1), np.float32),
                                         ((3, 6, 6, 3), np.float64), ((1, 1, 1), np.uint8),
                                         ((20, 4, 5, 3), np.uint8)])
@needs_mpl
def test_show_images_grid_and_png(tmp_path, shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = (rng.random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    n = shape[0]
    labels = rng.integers(0, 3, n)
    preds = rng.integers(0, 3, n)
    path = tmp_path / "grid.png"
    fig = show_images(x, labels=labels, predictions=preds, ncols=4, path=path)
    assert len(fig.axes) == n
    cols = min(4, n)
    rows = -(-n // cols)
    for i, ax in enumerate(fig.axes):
        assert ax.get_subplotspec().get_geometry()[:2] == (rows, cols)
        assert ax.get_subplotspec().num1 == i
        assert ax.get_title() == f"{labels[i]}\npred: {preds[i]}"
        red = to_rgba(ax.title.get_color()) == to_rgba("red")
        assert red == (labels[i] != preds[i])
        (im,) = ax.get_images()
        data = np.asarray(im.get_array())
        want = x[i].astype(np.float64)
        if dtype == np.uint8:
            want = want / 255.0
        if len(shape) == 4 and shape[-1] == 1:
            want = want[..., 0]
        np.testing.assert_allclose(data, want, rtol=0, atol=1e-12)
    assert png_size(path) == expected_pixels(fig)
    no_temporaries(tmp_path, ["grid.png"])


@needs_mpl
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 30), h=st.integers(1, 6), w=st.integers(1, 6), channels=st.sampled_from([None, 1, 3]),
       dtype=st.sampled_from([np.uint8, np.float32, np.float64]), ncols=st.integers(1, 10),
       max_images=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_show_images_random_shapes(n, h, w, channels, dtype, ncols, max_images, seed):
    rng = np.random.default_rng(seed)
    shape = (n, h, w) if channels is None else (n, h, w, channels)
    x = (rng.random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    k = int(rng.integers(1, 5))
    labels, preds = rng.integers(0, k, n), rng.integers(0, k, n)
    fig = show_images(x, labels=labels, predictions=preds, ncols=ncols, max_images=max_images)
    shown = min(n, max_images)
    cols = min(ncols, shown)
    rows = -(-shown // cols)
    assert len(fig.axes) == shown
    for i, ax in enumerate(fig.axes):
        assert ax.get_subplotspec().get_geometry()[:2] == (rows, cols)
        assert ax.get_subplotspec().num1 == i
        assert ax.get_title() == f"{labels[i]}\npred: {preds[i]}"
        assert (to_rgba(ax.title.get_color()) == to_rgba("red")) == (labels[i] != preds[i])
        want = x[i].astype(np.float64) / (255.0 if dtype == np.uint8 else 1.0)
        if channels == 1:
            want = want[..., 0]
        np.testing.assert_array_equal(np.asarray(ax.get_images()[0].get_array()), want)
    plt.close(fig)


@needs_mpl
def test_show_images_class_names_onehot_probabilities_and_max_images():
    rng = np.random.default_rng(3)
    n, k = 10, 4
    y = rng.integers(0, k, n)
    probs = rng.random((n, k))
    names = ["cat", "dog", "fish", "bird"]
    fig = show_images(rng.random((n, 5, 5)), labels=np.eye(k)[y], predictions=probs,
                      class_names=names, max_images=6, ncols=3)
    p = probs.argmax(1)
    assert len(fig.axes) == 6
    for i, ax in enumerate(fig.axes):
        assert ax.get_title() == f"{names[y[i]]}\npred: {names[p[i]]}"
        assert (to_rgba(ax.title.get_color()) == to_rgba("red")) == (y[i] != p[i])


@needs_mpl
def test_show_images_sigmoid_output_thresholded():
    probs = np.array([[0.2], [0.7], [0.5], [0.9]], np.float32)
    y = np.array([0, 0, 0, 1])
    fig = show_images(np.zeros((4, 3, 3)), labels=y[:, None], predictions=probs)
    want = (probs[:, 0] > 0.5).astype(int)
    assert [ax.get_title() for ax in fig.axes] == [f"{a}\npred: {b}" for a, b in zip(y, want)]
    red = [to_rgba(ax.title.get_color()) == to_rgba("red") for ax in fig.axes]
    assert red == [False, True, False, False]


@needs_mpl
def test_show_images_labels_or_predictions_alone_are_never_red():
    x = np.zeros((3, 4, 4), np.uint8)
    fig = show_images(x, labels=[0, 1, 2])
    assert [ax.get_title() for ax in fig.axes] == ["0", "1", "2"]
    fig = show_images(x, predictions=[2, 2, 2])
    assert [ax.get_title() for ax in fig.axes] == ["pred: 2"] * 3
    for ax in fig.axes:
        assert to_rgba(ax.title.get_color()) != to_rgba("red")
    fig = show_images(x)
    assert [ax.get_title() for ax in fig.axes] == [""] * 3


@needs_mpl
def test_show_images_float_outside_unit_range_scaled_per_image():
    x = np.stack([np.arange(16.0).reshape(4, 4) - 5, np.full((4, 4), 3.0)])
    fig = show_images(x)
    lo, hi = fig.axes[0].get_images()[0].get_clim()
    assert (lo, hi) == (-5.0, 10.0)
    lo, hi = fig.axes[1].get_images()[0].get_clim()
    assert hi > lo


@needs_mpl
def test_show_images_bool_masks_black_and_white():
    x = np.array([[[True, False], [False, True]]])
    fig = show_images(x)
    im = fig.axes[0].get_images()[0]
    np.testing.assert_array_equal(np.asarray(im.get_array()), [[1.0, 0.0], [0.0, 1.0]])
    assert im.get_clim() == (0.0, 1.0)


@needs_mpl
def test_show_images_tensor_input():
    x = pynn.tensor(np.random.default_rng(0).random((2, 3, 3)).astype("float32"))
    fig = show_images(x, labels=[1, 0])
    assert len(fig.axes) == 2


@needs_mpl
def test_show_images_errors():
    good = np.zeros((4, 5, 5), np.float32)
    for bad in [np.zeros((5, 5)), np.zeros((4, 5, 5, 2)), np.zeros((4, 3, 5, 5, 1)), np.zeros(7)]:
        with pytest.raises(ValueError, match=r"show_images: .*got shape \(" + ", ".join(map(str, bad.shape))):
            show_images(bad)
    with pytest.raises(ValueError, match="no image"):
        show_images(np.zeros((0, 5, 5)))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\).*got shape \(3,\)"):
        show_images(good, labels=[0, 1, 2])
    with pytest.raises(ValueError, match=r"predictions must have shape \(4,\).*got shape \(4, 2, 2\)"):
        show_images(good, predictions=np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="not an index into class_names"):
        show_images(good, labels=[0, 1, 2, 3], class_names=["a", "b"])
    with pytest.raises(ValueError, match="ncols"):
        show_images(good, ncols=0)
    with pytest.raises(ValueError, match="max_images"):
        show_images(good, max_images=0)
    with pytest.raises(TypeError, match="dtype"):
        show_images(np.array([[["a"]]]))
    assert plt.get_fignums() == []


# -- without matplotlib -------------------------------------------------------------------


def test_import_error_without_matplotlib(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'plot_history: needs matplotlib.*pip install "pynn\[plot\]"'):
        plot_history(logs())
    with pytest.raises(ImportError, match=r'show_images: needs matplotlib.*pip install "pynn\[plot\]"'):
        show_images(np.zeros((2, 3, 3)))
    with pytest.raises(ImportError, match=r'pip install "pynn\[plot\]"'):
        h = History()
        h.history = {"loss": [1.0, 0.5]}
        h.plot()
