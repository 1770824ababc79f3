"""pynn.datasets.boston_housing on generated .npz files of the real format (Note [Boston housing
file]), its download through a local HTTP server, pynn.utils.split_dataset against a re-implementation
of Keras 3's code, and the K-fold regression example (pynn/examples/boston.py) on generated data."""

import functools
import hashlib
import http.server
import io
import random
import threading

import numpy as np
import pytest

import pynn
from pynn.datasets import DatasetError, boston_housing
from pynn.utils import split_dataset

REFUSED = "http://127.0.0.1:9/boston_housing.npz"  # the discard port: nothing listens, refused at once


def make_npz(path, n=506, seed=0):
    """An .npz like Keras' (x (n, 13) float64, y (n,) float64); returns (x, y, sha256)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, (n, 13))
    y = rng.uniform(5, 50, n)
    buf = io.BytesIO()
    np.savez(buf, x=x, y=y)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return x, y, hashlib.sha256(data).hexdigest()


def keras_split(x, y, test_split=0.2, seed=113):
    """Keras 3's boston_housing.load_data after reading the file, step by step."""
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real data set anywhere: PYNN_DATA and HOME point into tmp_path, and downloads are refused."""
    monkeypatch.setenv("PYNN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(boston_housing, "ORIGIN", REFUSED)
    return tmp_path


def check_equal(got, want):
    (x, y), (xt, yt) = got
    (wx, wy), (wxt, wyt) = want
    for a, b in ((x, wx), (y, wy), (xt, wxt), (yt, wyt)):
        assert a.dtype == np.float64 and a.shape == b.shape and a.flags.c_contiguous
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("as_file", [False, True])
def test_reads_from_path_with_keras_split(isolated, monkeypatch, as_file):
    x, y, sha = make_npz(isolated / "given" / "boston_housing.npz")
    monkeypatch.setattr(boston_housing, "SHA256", sha)
    path = isolated / "given" / "boston_housing.npz" if as_file else isolated / "given"
    got = boston_housing.load_data(path=path)
    assert got[0][0].shape == (404, 13) and got[0][1].shape == (404,)
    assert got[1][0].shape == (102, 13) and got[1][1].shape == (102,)
    check_equal(got, keras_split(x, y))
    # the rows stay paired: each (x, y) sample of the splits is one of the file's
    row_of = {tuple(r): i for i, r in enumerate(x)}
    for xs, ys in got:
        for r, t in zip(xs, ys):
            assert y[row_of[tuple(r)]] == t


@pytest.mark.parametrize("test_split,seed", [(0.0, 113), (0.5, 0), (0.33, 7), (0.999, 113), (0.1, 2**31)])
def test_split_and_seed_match_keras(isolated, monkeypatch, test_split, seed):
    n = int(np.random.default_rng(seed % 1000).integers(1, 600))
    x, y, sha = make_npz(isolated / "data" / "boston_housing" / "boston_housing.npz", n=n, seed=seed % 1000)
    monkeypatch.setattr(boston_housing, "SHA256", sha)
    got = boston_housing.load_data(test_split=test_split, seed=seed)  # found through $PYNN_DATA
    check_equal(got, keras_split(x, y, test_split, seed))
    assert len(got[0][0]) + len(got[1][0]) == n


def test_different_seeds_differ(isolated, monkeypatch):
    x, y, sha = make_npz(isolated / "data" / "boston_housing" / "boston_housing.npz")
    monkeypatch.setattr(boston_housing, "SHA256", sha)
    a = boston_housing.load_data(seed=1)[0][1]
    b = boston_housing.load_data(seed=2)[0][1]
    assert not np.array_equal(a, b)
    assert sorted(np.concatenate([a, boston_housing.load_data(seed=1)[1][1]])) == sorted(y)


@pytest.mark.parametrize("bad", [-0.1, 1, 1.0, 5])
def test_bad_test_split(isolated, bad):
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=bad)


def test_cache_is_used(isolated, monkeypatch):
    x, y, sha = make_npz(isolated / "home" / ".cache" / "pynn" / "boston_housing" / "boston_housing.npz")
    monkeypatch.setattr(boston_housing, "SHA256", sha)
    check_equal(boston_housing.load_data(), keras_split(x, y))


def test_checksum_mismatch_names_the_path(isolated):
    path = isolated / "given" / "boston_housing.npz"
    make_npz(path)  # the real SHA256 cannot match generated data
    with pytest.raises(DatasetError, match=f"{path}: sha256 .* does not match"):
        boston_housing.load_data(path=path)


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("content,match", [
    (b"not a zip file", "not a readable .npz"),
    (npz_bytes(x=np.zeros((4, 13)))[:40], "not a readable .npz"),
    (npz_bytes(x=np.zeros((4, 13))), "no 'y'"),
    (npz_bytes(a=np.zeros(3)), "no 'x' and 'y'"),
    (npz_bytes(x=np.zeros((4, 13)), y=np.zeros((4, 1))), "'y' must be a 1-D numeric array"),
    (npz_bytes(x=np.zeros(4), y=np.zeros(4)), "'x' must be a 2-D numeric array"),
    (npz_bytes(x=np.zeros((4, 13)), y=np.zeros(5)), "'x' holds 4 samples but 'y' 5"),
    (npz_bytes(x=np.array([[object()]] * 4, dtype=object), y=np.zeros(4)), "not a readable .npz"),
    (npz_bytes(x=np.array([["a"] * 13] * 4), y=np.zeros(4)), "'x' must be a 2-D numeric array"),
])
def test_bad_files_are_refused_with_the_path(isolated, monkeypatch, content, match):
    path = isolated / "given" / "boston_housing.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    monkeypatch.setattr(boston_housing, "SHA256", hashlib.sha256(content).hexdigest())
    with pytest.raises(DatasetError, match=f"{path}: .*{match}"):
        boston_housing.load_data(path=path)


def test_object_array_is_never_unpickled(isolated, monkeypatch):
    """allow_pickle=False: an object array in the file is refused, nothing in it is called."""
    called = []

    class Boom:
        def __reduce__(self):
            return (called.append, ("ran",))

    content = npz_bytes(x=np.array([[Boom()]], dtype=object), y=np.zeros(1))
    path = isolated / "given" / "boston_housing.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    called.clear()
    monkeypatch.setattr(boston_housing, "SHA256", hashlib.sha256(content).hexdigest())
    with pytest.raises(DatasetError, match="not a readable .npz"):
        boston_housing.load_data(path=path)
    assert called == []


def test_missing_offline_names_every_place(isolated):
    with pytest.raises(DatasetError) as e:
        boston_housing.load_data(path=isolated / "given")
    msg = str(e.value)
    for place in (isolated / "given", isolated / "data" / "boston_housing",
                  isolated / "home" / ".cache" / "pynn" / "boston_housing"):
        assert str(place / "boston_housing.npz") in msg
    assert REFUSED in msg and "PYNN_DATA" in msg and "load_data(path=" in msg
    cache = isolated / "home" / ".cache" / "pynn" / "boston_housing"
    assert not cache.exists() or not any(cache.iterdir())


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    x, y, sha = make_npz(root / "boston_housing.npz", seed=5)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/boston_housing.npz", x, y, sha
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download_into_the_cache(isolated, monkeypatch, server):
    url, x, y, sha = server
    monkeypatch.setattr(boston_housing, "ORIGIN", url)
    monkeypatch.setattr(boston_housing, "SHA256", sha)
    check_equal(boston_housing.load_data(), keras_split(x, y))
    cache = isolated / "home" / ".cache" / "pynn" / "boston_housing"
    assert [p.name for p in cache.iterdir()] == ["boston_housing.npz"]  # no .part file left
    assert boston_housing._idx.sha256(cache / "boston_housing.npz") == sha
    # a second call reads the cached file (the server no longer matters)
    monkeypatch.setattr(boston_housing, "ORIGIN", REFUSED)
    check_equal(boston_housing.load_data(seed=3), keras_split(x, y, seed=3))


def test_download_with_wrong_checksum_leaves_nothing(isolated, monkeypatch, server):
    url, _, _, sha = server
    monkeypatch.setattr(boston_housing, "ORIGIN", url)
    monkeypatch.setattr(boston_housing, "SHA256", "f" * 64)
    with pytest.raises(DatasetError, match="does not match"):
        boston_housing.load_data()
    cache = isolated / "home" / ".cache" / "pynn" / "boston_housing"
    assert not cache.exists() or not any(cache.iterdir())


def test_registered():
    assert pynn.datasets.boston_housing is boston_housing
    assert boston_housing.ORIGIN.startswith("https://storage.googleapis.com/tensorflow/tf-keras-datasets/")
    assert len(boston_housing.SHA256) == 64


# split_dataset


def keras_split_dataset(arrays, left, right, shuffle, seed):
    """Keras 3's _split_dataset_tf for a tuple of arrays, up to the tf.data conversion: samples as a
    list, random.seed + random.shuffle, left = first `left`, right = last `right`."""
    samples = list(zip(*arrays))
    if shuffle:
        state = random.getstate()
        random.seed(seed)
        random.shuffle(samples)
        random.setstate(state)
    out = []
    for part in (samples[:left], samples[-right:]):
        out.append(tuple(np.array(field) for field in zip(*part)))
    return out


@pytest.mark.parametrize("features_shape", [(2,), (100, 2), (10, 10, 2), (1,)])
@pytest.mark.parametrize("container", [tuple, list])
def test_split_dataset_keras_numbers(features_shape, container):
    """Keras' test: 100 samples, left_size=0.2, right_size=0.8 -> 20 and 80, sample shapes kept."""
    rng = np.random.default_rng(0)
    features = rng.random((100,) + features_shape)
    labels = rng.random((100, 1))
    left, right = split_dataset(container([features, labels]), left_size=0.2, right_size=0.8)
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[0].shape == (20,) + features_shape and left[1].shape == (20, 1)
    assert right[0].shape == (80,) + features_shape and right[1].shape == (80, 1)
    np.testing.assert_array_equal(left[0], features[:20])
    np.testing.assert_array_equal(right[1], labels[20:])


@pytest.mark.parametrize("seed", range(6))
def test_split_dataset_matches_keras(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    dtype = [np.float32, np.float64, np.int64][seed % 3]
    x = rng.normal(size=(n, int(rng.integers(1, 4)), 2)).astype(dtype)
    y = rng.integers(0, 5, n).astype(np.uint8)
    sizes = [(0.7, None), (None, 0.25), (1, None), (None, n - 1), (0.4, 0.5), (1, 1)][seed]
    for shuffle in (False, True):
        left, right = split_dataset((x, y), *sizes, shuffle=shuffle, seed=seed * 11)
        l_n = round(sizes[0] * n) if isinstance(sizes[0], float) else sizes[0]
        r_n = round(sizes[1] * n) if isinstance(sizes[1], float) else sizes[1]
        l_n = n - r_n if l_n is None else l_n
        r_n = n - l_n if r_n is None else r_n
        if l_n == 0 or r_n == 0:
            continue
        want_l, want_r = keras_split_dataset((x, y), l_n, r_n, shuffle, seed * 11)
        for got, want in zip(left + right, want_l + want_r):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)


def test_split_dataset_plain_array_and_global_random_untouched():
    x = np.arange(30.0).reshape(10, 3)
    state = random.getstate()
    left, right = split_dataset(x, right_size=3, shuffle=True, seed=4)
    assert random.getstate() == state
    assert left.shape == (7, 3) and right.shape == (3, 3)
    rows = sorted(map(tuple, np.concatenate([left, right])))
    assert rows == sorted(map(tuple, x))  # a permutation: every sample once
    (wl,), (wr,) = keras_split_dataset((x,), 7, 3, True, 4)
    np.testing.assert_array_equal(left, wl)
    np.testing.assert_array_equal(right, wr)
    l1, _ = split_dataset(x, left_size=0.5, shuffle=True)  # seed None: any permutation, still a split
    assert l1.shape == (5, 3)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(), ValueError, "at least one of"),
    (dict(left_size=0, right_size=0), ValueError, "both `left_size` and `right_size` are zero"),
    (dict(left_size=10), ValueError, "`left_size` should be"),
    (dict(left_size=-1), ValueError, "`left_size` should be"),
    (dict(left_size=1.0), ValueError, "`left_size` should be"),
    (dict(right_size=0.0), ValueError, "`right_size` should be"),
    (dict(right_size=11), ValueError, "`right_size` should be"),
    (dict(left_size=0.6, right_size=0.5), ValueError, "greater than 1"),
    (dict(left_size=6, right_size=5), ValueError, "should be smaller than the 10"),
    (dict(left_size=0.01), ValueError, "right side dataset split would be|left side dataset split would be"),
    (dict(left_size="5"), TypeError, "invalid `left_size` type"),
    (dict(right_size=np.int64(3)), TypeError, "invalid `right_size` type"),
    (dict(left_size=True), TypeError, "invalid `left_size` type"),
    (dict(left_size="a", right_size=[1]), TypeError, "`left_size` and `right_size` types"),
])
def test_split_dataset_size_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset((np.zeros((10, 2)), np.zeros(10)), **kwargs)


def test_split_dataset_data_errors():
    with pytest.raises(ValueError, match="empty tuple"):
        split_dataset((), left_size=1)
    with pytest.raises(ValueError, match="empty list"):
        split_dataset([], left_size=1)
    with pytest.raises(ValueError, match="index 1"):
        split_dataset((np.zeros((4, 2)), [1, 2, 3, 4]), left_size=1)
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset([np.zeros((4, 2)), np.zeros(5)], left_size=1)
    with pytest.raises(ValueError, match="0-d"):
        split_dataset(np.array(3.0), left_size=1)
    with pytest.raises(ValueError, match="empty dataset"):
        split_dataset(np.zeros((0, 3)), left_size=0.5)
    with pytest.raises(TypeError, match="NumPy array or a list/tuple"):
        split_dataset({"x": np.zeros(3)}, left_size=1)

    class FakeTfDataset:  # what tf.data.Dataset's class path looks like, without TensorFlow
        pass
    FakeTfDataset.__module__ = "tensorflow.python.data.ops.dataset_ops"
    with pytest.raises(TypeError, match="tf.data, torch and grain data sets are not supported"):
        split_dataset(FakeTfDataset(), left_size=1)


# the K-fold example


def test_kfold_example_learns_generated_data():
    """The example end to end on a generated linear problem of Boston's shape: 4 folds, each fold's
    validation MAE below the targets' standard deviation (what always predicting the mean gets)."""
    from pynn.examples import boston

    rng = np.random.default_rng(1)
    x = rng.normal(size=(240, 13)) * rng.uniform(1, 50, 13) + rng.uniform(0, 100, 13)
    w = rng.normal(size=13)
    y = 22 + 3 * ((x - x.mean(0)) / x.std(0)) @ w + rng.normal(0, 0.5, 240)
    assert y.ndim == 1
    scores, test_mae = boston.run(epochs=15, batch_size=16, k=4, final_epochs=15, seed=0,
                                  data=((x[:200], y[:200]), (x[200:], y[200:])), verbose=0)
    assert len(scores) == 4
    assert all(np.isfinite(scores))
    assert max(scores) < y[:200].std(), (scores, y[:200].std())
    assert test_mae < y[200:].std()


def test_kfold_folds_and_normalization():
    from pynn.examples import boston

    rng = np.random.default_rng(2)
    train = rng.normal(5, 3, (20, 4))
    test = rng.normal(5, 3, (6, 4))
    a, b = boston.normalize(train, test)
    mean, std = train.mean(0), train.std(0)
    np.testing.assert_allclose(a, (train - mean) / std, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b, (test - mean) / std, rtol=1e-6, atol=1e-6)
    m = boston.build_model(4)
    assert [type(layer).__name__ for layer in m.layers] == ["Dense", "Dense", "Dense"]
    assert [layer.units for layer in m.layers] == [64, 64, 1]
    assert m.predict(a, verbose=0).shape == (20, 1)
    with pytest.raises(ValueError, match="k=4 folds"):
        boston.k_fold_validation(a[:3], np.zeros(3, np.float32), k=4)


def test_path_semantics(isolated, monkeypatch, tmp_path):
    """A bare .npz name is looked for under $PYNN_DATA/boston_housing/ and the cache (as Keras' is under
    ~/.keras/datasets), never in the working folder; a missing .npz path is named in the error."""
    x, y, sha = make_npz(isolated / "data" / "boston_housing" / "mine.npz", seed=3)
    monkeypatch.setattr(boston_housing, "SHA256", sha)
    check_equal(boston_housing.load_data(path="mine.npz"), keras_split(x, y))
    work = tmp_path / "work"
    make_npz(work / "boston_housing.npz", seed=4)
    monkeypatch.chdir(work)
    with pytest.raises(DatasetError) as e:  # the working folder's file is not used
        boston_housing.load_data()
    assert str(work / "boston_housing.npz") not in str(e.value)
    missing = tmp_path / "nowhere" / "file.npz"
    with pytest.raises(DatasetError, match="file.npz was not found") as e:
        boston_housing.load_data(path=missing)
    assert str(missing) in str(e.value) and str(isolated / "data" / "boston_housing" / "file.npz") in str(e.value)
