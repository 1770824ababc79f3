"""pynn.datasets.imdb and pynn.datasets.reuters on generated files in Keras' format (Note [Word
sequence files]): every load_data option against a NumPy re-implementation of Keras 3's
preprocessing, the word indexes and label names, refusals (checksums, a hostile pickle, bad
contents), the download through a local HTTP server, and the DLwP chapter-3 examples
(pynn/examples/imdb.py, reuters.py) trained briefly on generated learnable data."""

import functools
import hashlib
import http.server
import io
import json
import os
import threading
import zipfile

import numpy as np
import pytest

import pynn
from pynn.datasets import DatasetError, imdb, reuters

REFUSED = "http://127.0.0.1:9/"  # the discard port: nothing listens, refused at once


def ragged(rng, n, vocab, lo=0, hi=12):
    """An object array of n Python lists of word ranks in [0, vocab)."""
    a = np.empty(n, dtype=object)
    for i in range(n):
        a[i] = [int(w) for w in rng.integers(0, vocab, int(rng.integers(lo, hi)))]
    return a


def write_npz(path, **arrays):
    """np.savez (pickling the object arrays, as Keras' files were written); returns the sha256."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write_json(path, obj):
    data = json.dumps(obj).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.md5(data).hexdigest()


# Keras 3's preprocessing, written again from its source, on the arrays as the file holds them


def keras_remove_long_seq(maxlen, seq, label):
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def keras_shift(xs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [[w for w in x] for x in xs]


def keras_limit(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def keras_imdb(x_train, labels_train, x_test, labels_test, num_words=None, skip_top=0, maxlen=None, seed=113,
               start_char=1, oov_char=2, index_from=3):
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]
    x_train = keras_shift(x_train, start_char, index_from)
    x_test = keras_shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = keras_remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = keras_remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError("no sequence kept")
    xs = keras_limit(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return (np.array(xs[:idx], dtype="object"), labels[:idx]), (np.array(xs[idx:], dtype="object"), labels[idx:])


def keras_reuters(xs, labels, num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
                  oov_char=2, index_from=3):
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = keras_shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = keras_remove_long_seq(maxlen, xs, labels)
    xs = keras_limit(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:idx], dtype="object"), np.array(labels[:idx])),
            (np.array(xs[idx:], dtype="object"), np.array(labels[idx:])))


def check_same(got, want):
    for (x, y), (wx, wy) in zip(got, want):
        assert isinstance(x, np.ndarray) and x.dtype == object and x.shape == wx.shape
        assert [list(s) for s in x.reshape(len(x), -1)] == [list(s) for s in wx.reshape(len(wx), -1)] \
            if x.ndim == 2 else [list(s) for s in x] == [list(s) for s in wx]
        assert all(type(w) is int for s in x.reshape(-1) for w in (s if isinstance(s, list) else [s]))
        assert y.dtype == wy.dtype and y.shape == wy.shape
        np.testing.assert_array_equal(y, wy)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real data set anywhere: PYNN_DATA and HOME point into tmp_path, and downloads are refused."""
    monkeypatch.setenv("PYNN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for mod in (imdb, reuters):
        monkeypatch.setattr(mod, "ORIGIN", REFUSED + mod.FILE)
        monkeypatch.setattr(mod, "WORD_INDEX_ORIGIN", REFUSED + mod.WORD_INDEX_FILE)
    return tmp_path


def make_imdb(path, monkeypatch, seed=0, n_train=40, n_test=30, vocab=60, lo=0, hi=12, label_dtype=np.int64):
    rng = np.random.default_rng(seed)
    arrays = {"x_train": ragged(rng, n_train, vocab, lo, hi), "y_train": rng.integers(0, 2, n_train).astype(label_dtype),
                  "x_test": ragged(rng, n_test, vocab, lo, hi), "y_test": rng.integers(0, 2, n_test).astype(label_dtype)}
    monkeypatch.setattr(imdb, "SHA256", write_npz(path, **arrays))
    return arrays


def make_reuters(path, monkeypatch, seed=0, n=50, vocab=80, lo=0, hi=12):
    rng = np.random.default_rng(seed)
    arrays = {"x": ragged(rng, n, vocab, lo, hi), "y": rng.integers(0, 46, n)}
    monkeypatch.setattr(reuters, "SHA256", write_npz(path, **arrays))
    return arrays


IMDB_OPTIONS = [
    {},
    {"num_words": 30},
    {"num_words": 30, "skip_top": 5},
    {"skip_top": 10, "oov_char": None},
    {"num_words": 25, "oov_char": None},
    {"maxlen": 8},
    {"maxlen": 8, "num_words": 20, "skip_top": 3, "oov_char": 7},
    {"seed": 0},
    {"seed": 2**31 - 1, "start_char": None},
    {"start_char": None, "index_from": 0},
    {"start_char": None, "index_from": 0, "num_words": 10, "oov_char": None},
    {"start_char": 5, "oov_char": 4, "index_from": 10, "num_words": 40},
    {"index_from": 0},
    {"maxlen": 1000},
]


@pytest.mark.parametrize("options", IMDB_OPTIONS, ids=[repr(o) for o in IMDB_OPTIONS])
def test_imdb_options_match_keras(isolated, monkeypatch, options):
    a = make_imdb(isolated / "given" / "imdb.npz", monkeypatch, lo=1, seed=len(repr(options)))
    got = imdb.load_data(path=isolated / "given", **options)
    check_same(got, keras_imdb(a["x_train"], a["y_train"], a["x_test"], a["y_test"], **options))
    (x, y), (xt, yt) = got
    if not options.get("maxlen"):
        assert len(x) == 40 and len(xt) == 30
    # the labels stay with their reviews: each shuffled (review, label) is one of the file's
    (x, y), (xt, yt) = imdb.load_data(path=isolated / "given", num_words=10**6)
    for xs, ys, kx, ky in ((x, y, "x_train", "y_train"), (xt, yt, "x_test", "y_test")):
        pairs = {(tuple(s), int(l)) for s, l in zip(a[kx], a[ky])}
        assert {(tuple(w - 3 for w in s[1:]), int(l)) for s, l in zip(xs, ys)} == pairs
        assert all(s[0] == 1 for s in xs)


@pytest.mark.parametrize("seed", range(6))
def test_imdb_random_files_and_options(isolated, monkeypatch, seed):
    rng = np.random.default_rng(100 + seed)
    a = make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch, seed=seed,
                  n_train=int(rng.integers(1, 50)), n_test=int(rng.integers(1, 50)),
                  vocab=int(rng.integers(2, 200)), lo=1, hi=int(rng.integers(2, 30)),
                  label_dtype=[np.int64, np.int32, np.uint8][seed % 3])
    options = {"num_words": [None, int(rng.integers(1, 100))][seed % 2], "skip_top": int(rng.integers(0, 5)),
                   "maxlen": [None, int(rng.integers(20, 40))][seed // 3], "seed": int(rng.integers(0, 1000)),
                   "start_char": [1, None, 9][seed % 3], "oov_char": [2, None][seed % 2], "index_from": int(rng.integers(0, 5))}
    check_same(imdb.load_data(**options), keras_imdb(a["x_train"], a["y_train"], a["x_test"], a["y_test"], **options))


def test_imdb_equal_length_sequences_give_a_2d_object_array_as_in_keras(isolated, monkeypatch):
    a = make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch, lo=4, hi=5)
    (x, y), (xt, yt) = imdb.load_data()
    assert x.shape == (40, 5) and xt.shape == (30, 5) and x.dtype == object
    check_same(((x, y), (xt, yt)), keras_imdb(a["x_train"], a["y_train"], a["x_test"], a["y_test"]))


def test_imdb_maxlen_keeping_nothing_raises(isolated, monkeypatch):
    make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch, lo=3)
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)
    # maxlen=0 is falsy: no filtering, as in Keras
    assert len(imdb.load_data(maxlen=0)[0][0]) == 40


def test_imdb_ignores_other_keywords_as_keras(isolated, monkeypatch):
    a = make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch)
    check_same(imdb.load_data(something_else=3), keras_imdb(a["x_train"], a["y_train"], a["x_test"], a["y_test"]))


def test_imdb_option_types(isolated, monkeypatch):
    make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch)
    for bad in ({"num_words": 2.5}, {"skip_top": None}, {"maxlen": "3"}, {"index_from": True}):
        with pytest.raises(TypeError, match="imdb.load_data"):
            imdb.load_data(**bad)


REUTERS_OPTIONS = [
    {},
    {"num_words": 30},
    {"num_words": 30, "skip_top": 4, "test_split": 0.5},
    {"oov_char": None, "skip_top": 20},
    {"maxlen": 6},
    {"maxlen": 6, "test_split": 0.0},
    {"test_split": 1.0},
    {"test_split": 0.33, "seed": 7},
    {"start_char": None, "index_from": 0, "num_words": 15},
    {"start_char": None, "index_from": 2},
    {"start_char": 3, "oov_char": 0, "index_from": 5, "num_words": 50},
]


@pytest.mark.parametrize("options", REUTERS_OPTIONS, ids=[repr(o) for o in REUTERS_OPTIONS])
def test_reuters_options_match_keras(isolated, monkeypatch, options):
    a = make_reuters(isolated / "given" / "reuters.npz", monkeypatch, lo=1, seed=len(repr(options)))
    got = reuters.load_data(path=isolated / "given" / "reuters.npz", **options)
    check_same(got, keras_reuters(a["x"], a["y"], **options))
    if not options.get("maxlen"):
        assert len(got[0][0]) == int(50 * (1 - options.get("test_split", 0.2)))


@pytest.mark.parametrize("seed", range(6))
def test_reuters_random_files_and_options(isolated, monkeypatch, seed):
    rng = np.random.default_rng(200 + seed)
    a = make_reuters(isolated / "data" / "reuters" / "reuters.npz", monkeypatch, seed=seed,
                     n=int(rng.integers(1, 80)), vocab=int(rng.integers(2, 300)), lo=1, hi=int(rng.integers(2, 25)))
    options = {"num_words": [None, int(rng.integers(1, 100))][seed % 2], "skip_top": int(rng.integers(0, 5)),
                   "maxlen": [None, int(rng.integers(15, 30))][seed // 3], "test_split": float(rng.uniform(0, 1)),
                   "seed": int(rng.integers(0, 1000)), "start_char": [1, None, 4][seed % 3], "oov_char": [2, None][seed % 2],
                   "index_from": int(rng.integers(0, 5))}
    check_same(reuters.load_data(**options), keras_reuters(a["x"], a["y"], **options))


def test_reuters_bad_test_split(isolated, monkeypatch):
    make_reuters(isolated / "data" / "reuters" / "reuters.npz", monkeypatch)
    for bad in (-0.1, 1.5, "0.2"):
        with pytest.raises(ValueError, match="test_split"):
            reuters.load_data(test_split=bad)


def test_reuters_label_names():
    names = reuters.get_label_names()
    assert isinstance(names, tuple) and len(names) == 46 and len(set(names)) == 46
    assert names[0] == "cocoa" and names[3] == "earn" and names[4] == "acq" and names[45] == "lead"
    assert names[19] == "money-fx" and names[16] == "crude"


@pytest.mark.parametrize("mod", [imdb, reuters])
def test_word_index(isolated, monkeypatch, mod):
    index = {"the": 1, "and": 2, "a": 3, "überraschung": 4, "film": 500}
    monkeypatch.setattr(mod, "WORD_INDEX_MD5", write_json(isolated / "data" / mod.NAME / mod.WORD_INDEX_FILE, index))
    assert mod.get_word_index() == index
    # a folder or a file as path
    write_json(isolated / "elsewhere" / mod.WORD_INDEX_FILE, index)
    assert mod.get_word_index(path=isolated / "elsewhere") == index
    assert mod.get_word_index(path=isolated / "elsewhere" / mod.WORD_INDEX_FILE) == index
    # Keras checks the word index with an md5
    assert len(mod.WORD_INDEX_MD5) == 32 and mod.WORD_INDEX_ORIGIN.endswith(mod.WORD_INDEX_FILE)
    write_json(isolated / "other" / mod.WORD_INDEX_FILE, {"x": 1})
    with pytest.raises(DatasetError, match="md5"):
        mod.get_word_index(path=isolated / "other")
    bad = isolated / "bad" / mod.WORD_INDEX_FILE
    monkeypatch.setattr(mod, "WORD_INDEX_MD5", write_json(bad, ["not", "a", "dict"]))
    with pytest.raises(DatasetError, match=str(bad).replace("\\", "\\\\")):
        mod.get_word_index(path=bad)


def test_decoding_a_review_as_keras_documents(isolated, monkeypatch):
    """Keras' get_word_index example: index + index_from maps a loaded sequence back to words."""
    words = [f"w{i}" for i in range(60)]
    a = make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch, lo=1)
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", write_json(isolated / "data" / "imdb" / imdb.WORD_INDEX_FILE,
                                                           {w: i for i, w in enumerate(words)}))
    (x, _), _ = imdb.load_data(num_words=1000)
    inverted = {i + 3: w for w, i in imdb.get_word_index().items()}
    inverted[1] = "[START]"
    decoded = [" ".join(inverted[i] for i in s) for s in x]
    originals = {" ".join(["[START]"] + [words[w] for w in s]) for s in a["x_train"]}
    assert set(decoded) == originals


# refusals


@pytest.mark.parametrize("mod", [imdb, reuters])
def test_wrong_checksum_is_refused(isolated, mod, monkeypatch):
    if mod is imdb:
        make_imdb(isolated / "data" / "imdb" / "imdb.npz", monkeypatch)
    else:
        make_reuters(isolated / "data" / "reuters" / "reuters.npz", monkeypatch)
    monkeypatch.setattr(mod, "SHA256", "0" * 64)
    with pytest.raises(DatasetError, match="sha256") as e:
        mod.load_data()
    assert str(isolated / "data" / mod.NAME / mod.FILE) in str(e.value)


def test_missing_everywhere_names_the_places(isolated):
    with pytest.raises(DatasetError) as e:
        imdb.load_data()
    assert str(isolated / "data" / "imdb" / "imdb.npz") in str(e.value)
    assert str(isolated / "home" / ".cache" / "pynn" / "imdb" / "imdb.npz") in str(e.value)
    assert "PYNN_DATA" in str(e.value)
    with pytest.raises(DatasetError, match="reuters_word_index.json"):
        reuters.get_word_index()


class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER[0]}",))


MARKER = [None]


@pytest.mark.parametrize("mod,key", [(imdb, "x_test"), (reuters, "x")])
def test_hostile_pickle_runs_nothing(isolated, monkeypatch, mod, key):
    marker = isolated / "marker"
    MARKER[0] = str(marker)
    rng = np.random.default_rng(0)
    arrays = ({"x_train": ragged(rng, 3, 9), "y_train": np.zeros(3, np.int64), "x_test": ragged(rng, 2, 9),
                   "y_test": np.zeros(2, np.int64)} if mod is imdb else {"x": ragged(rng, 3, 9), "y": np.zeros(3, np.int64)})
    arrays[key][1] = [1, Evil()]
    path = isolated / "data" / mod.NAME / mod.FILE
    monkeypatch.setattr(mod, "SHA256", write_npz(path, **arrays))
    # the file really is hostile: numpy's own loader with pickling allowed runs the command
    with np.load(path, allow_pickle=True) as f:
        f[key]
    assert marker.exists()
    marker.unlink()
    with pytest.raises(DatasetError) as e:
        mod.load_data()
    assert str(path) in str(e.value) and key in str(e.value) and "system" in str(e.value)
    assert not marker.exists()


def test_hostile_top_level_pickle(isolated, monkeypatch):
    """An object-dtype .npy member whose payload is not an array at all, but a bare call."""
    marker = isolated / "marker2"
    MARKER[0] = str(marker)
    import pickle
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    buf.write(pickle.dumps(Evil(), protocol=2))
    path = isolated / "data" / "reuters" / "reuters.npz"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", buf.getvalue())
        b2 = io.BytesIO()
        np.save(b2, np.zeros(1, np.int64))
        z.writestr("y.npy", b2.getvalue())
    monkeypatch.setattr(reuters, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(DatasetError, match="system") as e:
        reuters.load_data()
    assert str(path) in str(e.value)
    assert not marker.exists()


def test_cifar_still_refuses_through_the_shared_unpickler():
    import pickle

    from pynn.datasets import cifar10
    with pytest.raises(DatasetError, match="CIFAR batch.*|posix.system|os.system"):
        cifar10._read_batch(io.BytesIO(pickle.dumps(Evil(), protocol=2)), "somewhere")


BAD_CONTENTS = [
    ({"x": np.zeros((3, 4), np.int64), "y": np.zeros(3, np.int64)}, "1-D array"),
    ({"x": "ragged", "y": np.zeros(2)}, "integer array"),
    ({"x": "ragged", "y": np.zeros(3, np.int64)}, "2 sequences"),
    ({"x": "ragged", "y": np.zeros((2, 1), np.int64)}, "1-D integer"),
    ({"x": "negative", "y": np.zeros(2, np.int64)}, "ints >= 0"),
    ({"x": "strings", "y": np.zeros(2, np.int64)}, "list of word indices"),
    ({"y": np.zeros(2, np.int64)}, "no 'x'"),
]


@pytest.mark.parametrize("arrays,message", BAD_CONTENTS)
def test_bad_contents_are_refused(isolated, monkeypatch, arrays, message):
    arrays = dict(arrays)
    x = np.empty(2, dtype=object)
    kind = arrays.get("x") if isinstance(arrays.get("x"), str) else None
    if kind == "ragged":
        x[0], x[1] = [1, 2], [3]
        arrays["x"] = x
    elif kind == "negative":
        x[0], x[1] = [1, 2], [3, -1]
        arrays["x"] = x
    elif kind == "strings":
        x[0], x[1] = [1, 2], "abc"
        arrays["x"] = x
    path = isolated / "data" / "reuters" / "reuters.npz"
    monkeypatch.setattr(reuters, "SHA256", write_npz(path, **arrays))
    with pytest.raises(DatasetError, match=message) as e:
        reuters.load_data()
    assert str(path) in str(e.value)


def test_not_an_npz_is_refused(isolated, monkeypatch):
    path = isolated / "data" / "imdb" / "imdb.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip file at all")
    monkeypatch.setattr(imdb, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(DatasetError, match="not a readable .npz"):
        imdb.load_data()


# the download path


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.mark.parametrize("mod", [imdb, reuters])
def test_download_into_the_cache(isolated, monkeypatch, server, mod):
    root, url = server
    if mod is imdb:
        a = make_imdb(root / "imdb.npz", monkeypatch)
        want = keras_imdb(a["x_train"], a["y_train"], a["x_test"], a["y_test"], num_words=20)
    else:
        a = make_reuters(root / "reuters.npz", monkeypatch)
        want = keras_reuters(a["x"], a["y"], num_words=20)
    monkeypatch.setattr(mod, "WORD_INDEX_MD5", write_json(root / mod.WORD_INDEX_FILE, {"good": 1, "bad": 2}))
    monkeypatch.setattr(mod, "ORIGIN", url + mod.FILE)
    monkeypatch.setattr(mod, "WORD_INDEX_ORIGIN", url + mod.WORD_INDEX_FILE)
    check_same(mod.load_data(num_words=20), want)
    assert mod.get_word_index() == {"good": 1, "bad": 2}
    cache = isolated / "home" / ".cache" / "pynn" / mod.NAME
    assert sorted(p.name for p in cache.iterdir()) == sorted([mod.FILE, mod.WORD_INDEX_FILE])
    # then read from the cache, offline
    monkeypatch.setattr(mod, "ORIGIN", REFUSED + mod.FILE)
    check_same(mod.load_data(num_words=20), want)


def test_download_with_a_wrong_checksum_leaves_nothing(isolated, monkeypatch, server):
    root, url = server
    make_imdb(root / "imdb.npz", monkeypatch)
    monkeypatch.setattr(imdb, "SHA256", "1" * 64)
    monkeypatch.setattr(imdb, "ORIGIN", url + "imdb.npz")
    with pytest.raises(DatasetError, match="does not match"):
        imdb.load_data()
    cache = isolated / "home" / ".cache" / "pynn" / "imdb"
    assert not cache.exists() or list(cache.iterdir()) == []
    write_json(root / "imdb_word_index.json", {"a": 1})
    monkeypatch.setattr(imdb, "WORD_INDEX_ORIGIN", url + "imdb_word_index.json")
    with pytest.raises(DatasetError, match="md5"):
        imdb.get_word_index()
    assert list(cache.iterdir()) == []


def test_registered_with_keras_origins():
    assert pynn.datasets.imdb is imdb and pynn.datasets.reuters is reuters
    for mod in (imdb, reuters):
        assert mod.ORIGIN == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/" + mod.FILE
        assert len(mod.SHA256) == 64
    assert imdb.SHA256.startswith("69664113") and reuters.SHA256.startswith("d6586e69")


# the examples, on generated learnable data


def learnable(rng, n, num_classes, vocab, length=20):
    """Sequences whose class c shows in the words [10 + 5c, 15 + 5c) mixed with noise words."""
    labels = rng.integers(0, num_classes, n)
    x = np.empty(n, dtype=object)
    for i, c in enumerate(labels):
        signal = rng.integers(10 + 5 * c, 15 + 5 * c, length // 2)
        noise = rng.integers(0, vocab, length - length // 2)
        x[i] = [int(w) for w in np.concatenate([signal, noise])]
    return x, labels.astype(np.int64)


def test_vectorize_sequences():
    from pynn.examples.imdb import vectorize_sequences
    seqs = [[1, 3, 3, 0], [], [4]]
    got = vectorize_sequences(seqs, 5)
    want = np.zeros((3, 5))
    for i, s in enumerate(seqs):
        for w in s:
            want[i, w] = 1
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="outside"):
        vectorize_sequences([[5]], 5)


def test_imdb_example_learns(isolated, monkeypatch):
    from pynn.examples import imdb as example
    rng = np.random.default_rng(0)
    xtr, ytr = learnable(rng, 400, 2, 60)
    xte, yte = learnable(rng, 100, 2, 60)
    monkeypatch.setattr(imdb, "SHA256", write_npz(isolated / "data" / "imdb" / "imdb.npz", x_train=xtr, y_train=ytr,
                                                  x_test=xte, y_test=yte))
    data = imdb.load_data(num_words=100)
    model, history, _loss, acc = example.run(epochs=8, batch_size=32, num_words=100, validation=100, data=data, verbose=0)
    h = history.history
    assert set(h) >= {"loss", "accuracy", "val_loss", "val_accuracy"} and len(h["loss"]) == 8
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["val_accuracy"][-1] > 0.9 and acc > 0.9
    assert [l.units for l in model.layers] == [16, 16, 1]
    assert any(i["mode"] == "train" and i["path"] == "captured" for i in model.plan_info()), model.plan_info()
    with pytest.raises(ValueError, match="validation"):
        example.run(epochs=1, num_words=100, validation=400, data=data, verbose=0)


@pytest.mark.parametrize("labels", ["categorical", "sparse"])
def test_reuters_example_learns(isolated, monkeypatch, labels):
    from pynn.examples import reuters as example
    rng = np.random.default_rng(1)
    x, y = learnable(rng, 600, 6, 60)
    monkeypatch.setattr(reuters, "SHA256", write_npz(isolated / "data" / "reuters" / "reuters.npz", x=x, y=y))
    data = reuters.load_data(num_words=100)
    model, history, _loss, acc = example.run(epochs=10, batch_size=32, num_words=100, validation=100, labels=labels,
                                            data=data, verbose=0)
    h = history.history
    assert h["loss"][-1] < 0.5 * h["loss"][0] and acc > 0.8
    assert model.layers[-1].units == 46 and [l.units for l in model.layers] == [64, 64, 46]
    assert any(i["mode"] == "train" and i["path"] == "captured" for i in model.plan_info()), model.plan_info()


def test_reuters_categorical_and_sparse_agree(isolated, monkeypatch):
    """The two label encodings are the same loss: same seed, same data -> the same training."""
    from pynn.examples import reuters as example
    rng = np.random.default_rng(2)
    x, y = learnable(rng, 200, 4, 40)
    monkeypatch.setattr(reuters, "SHA256", write_npz(isolated / "data" / "reuters" / "reuters.npz", x=x, y=y))
    data = reuters.load_data(num_words=60)
    runs = [example.run(epochs=2, batch_size=40, num_words=60, validation=40, labels=labels, data=data, verbose=0)
            for labels in ("categorical", "sparse")]
    np.testing.assert_allclose(runs[0][1].history["loss"], runs[1][1].history["loss"], rtol=1e-4)
    with pytest.raises(ValueError, match="labels"):
        example.run(labels="onehot", data=data)


@pytest.mark.parametrize("script,module", [("imdb_binary", "imdb"), ("reuters_multiclass", "reuters")])
def test_scripts_without_data_say_where_they_looked(isolated, capsys, script, module):
    """The thin scripts run the examples' main(); offline with no file they exit 1 naming the places."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / f"{script}.py"
    spec = importlib.util.spec_from_file_location(f"example_{script}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # __name__ is not "__main__": nothing runs yet
    assert mod.main is importlib.import_module(f"pynn.examples.{module}").main
    assert mod.main(["--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and str(isolated / "data" / module / f"{module}.npz") in err
