"""Data set loaders: the real files when provided, and small generated IDX files for every error path
and for downloads from a local HTTP server (127.0.0.1 only)."""

import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import pynn
from pynn.datasets import DatasetError, _idx

HAVE_DATA = bool(os.environ.get("PYNN_DATA")) and os.path.isdir(os.path.join(os.environ["PYNN_DATA"], "mnist"))


@pytest.mark.skipif(not HAVE_DATA, reason="set PYNN_DATA to a folder holding mnist/ and fashion-mnist/ "
                                          "(the IDX .gz files; CI uses ../shared/data)")
@pytest.mark.parametrize("module", [pynn.datasets.mnist, pynn.datasets.fashion_mnist])
def test_real_files(module):
    (x, y), (xt, yt) = module.load_data()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y.shape == (60000,) and yt.shape == (10000,)
    assert x.dtype == y.dtype == np.uint8
    assert set(np.unique(y)) == set(range(10)) and x.max() == 255


def idx_bytes(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def make_set(folder, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    content = {
        "train-images-idx3-ubyte.gz": idx_bytes(rng.integers(0, 256, (n_train, 28, 28)), 2051),
        "train-labels-idx1-ubyte.gz": idx_bytes(rng.integers(0, 10, n_train), 2049),
        "t10k-images-idx3-ubyte.gz": idx_bytes(rng.integers(0, 256, (n_test, 28, 28)), 2051),
        "t10k-labels-idx1-ubyte.gz": idx_bytes(rng.integers(0, 10, n_test), 2049),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in content.items():
        (folder / name).write_bytes(data)
    return {name: hashlib.sha256(data).hexdigest() for name, data in content.items()}


NO_MIRRORS = ("http://127.0.0.1:9/",)  # the discard port: nothing listens, refused at once


def test_reads_from_path(tmp_path):
    sums = make_set(tmp_path / "given")
    (x, y), (xt, yt) = _idx.load("tiny", sums, NO_MIRRORS, path=tmp_path / "given", cache_dir=tmp_path / "cache")
    assert x.shape == (5, 28, 28) and y.shape == (5,) and xt.shape == (3, 28, 28) and yt.shape == (3,)


def test_errors_name_the_path(tmp_path):
    folder = tmp_path / "given"
    sums = make_set(folder)
    bad = folder / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x08\x02" + b"\x00" * 8))
    with pytest.raises(DatasetError, match="sha256"):
        _idx.load("tiny", sums, NO_MIRRORS, path=folder, cache_dir=tmp_path / "cache")
    with pytest.raises(DatasetError, match=f"{bad}: bad IDX magic"):
        _idx.read_idx(bad)
    bad.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (9).to_bytes(4, "big") + b"\x01\x02"))
    with pytest.raises(DatasetError, match="header says"):
        _idx.read_idx(bad)
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match=f"{bad}: not a readable gzip file"):
        _idx.read_idx(bad)


def test_missing_offline_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("PYNN_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetError) as e:
        _idx.load("tiny", {f: "0" * 64 for f in _idx.FILES}, NO_MIRRORS, path=tmp_path / "given",
                  cache_dir=tmp_path / "cache")
    msg = str(e.value)
    for place in (tmp_path / "given", tmp_path / "data" / "tiny", tmp_path / "cache"):
        assert str(place) in msg
    assert "PYNN_DATA" in msg and "load_data(path=" in msg


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    sums = make_set(root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", sums, root
    httpd.shutdown()
    httpd.server_close()


def test_download_into_cache_atomically(tmp_path, server):
    url, sums, _ = server
    cache = tmp_path / "cache"
    (x, y), _ = _idx.load("tiny", sums, (NO_MIRRORS[0], url), cache_dir=cache)
    assert x.shape == (5, 28, 28)
    assert sorted(p.name for p in cache.iterdir()) == sorted(_idx.FILES)  # no .part files left
    for name in _idx.FILES:
        assert _idx.sha256(cache / name) == sums[name]


def test_download_with_wrong_checksum_is_refused(tmp_path, server):
    url, sums, _ = server
    cache = tmp_path / "cache"
    wrong = dict(sums, **{"t10k-images-idx3-ubyte.gz": "f" * 64})
    with pytest.raises(DatasetError, match="does not match"):
        _idx.load("tiny", wrong, (url,), cache_dir=cache)
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists()
    assert not any(p.name.endswith(".part") for p in cache.iterdir())
