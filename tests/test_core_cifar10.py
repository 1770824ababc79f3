"""pynn.datasets.cifar10 on generated archives of the real format (Note [CIFAR pickles]), its refusals,
and the CIFAR-10 convnet example (pynn/examples/cifar10.py) on generated learnable images."""

import hashlib
import io
import os
import pickle
import pickletools
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

from pynn.datasets import DatasetError, cifar10

TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
ALL = TRAIN + ["test_batch"]
DIR = "cifar-10-batches-py"


def make_batches(sizes, seed=0):
    """{batch name: (data (n, 3072) uint8, labels list)} with sizes[i] images in ALL[i]."""
    rng = np.random.default_rng(seed)
    return {name: (rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist())
            for name, n in zip(ALL, sizes)}


def batch_pickle(data, labels, name="x", protocol=pickle.DEFAULT_PROTOCOL):
    return pickle.dumps({b"batch_label": f"{name} of 5".encode(), b"labels": labels, b"data": data,
                         b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}, protocol=protocol)


def legacy_pickle(data, labels):
    """The batch as the real files hold it: a Python 2 pickle (protocol 2, byte strings as Python 2
    str) naming NumPy 1's numpy.core.multiarray._reconstruct. Made from a protocol-3 pickle, whose
    bytes and str opcodes have the same layout as Python 2's str ones."""
    raw = bytearray(batch_pickle(data, labels, protocol=3))
    to_py2_str = {"C": b"U", "B": b"T", "X": b"T"}  # SHORT_BINBYTES, BINBYTES, BINUNICODE
    for op, _, pos in pickletools.genops(bytes(raw)):
        if op.code in to_py2_str:
            raw[pos:pos + 1] = to_py2_str[op.code]
    assert raw[:2] == b"\x80\x03"
    raw[1] = 2
    assert b"cnumpy._core.multiarray\n_reconstruct\n" in raw
    return bytes(raw).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def pickles(batches):
    out = {name: batch_pickle(d, l, name) for name, (d, l) in batches.items()}
    out["data_batch_2"] = legacy_pickle(*batches["data_batch_2"])
    return out


def write_archive(path, members, extra=()):
    """members: {batch name: bytes} under cifar-10-batches-py/ (in the given order), extra: TarInfos with
    bytes or None (links, folders). Returns the file's sha256."""
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/batches.meta")
        meta = pickle.dumps({b"label_names": [n.encode() for n in cifar10.CLASS_NAMES]})
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
        for name, raw in members.items():
            info = tarfile.TarInfo(f"{DIR}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        for info, raw in extra:
            tar.addfile(info, None if raw is None else io.BytesIO(raw))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_folder(folder, members):
    (folder / DIR).mkdir(parents=True)
    for name, raw in members.items():
        (folder / DIR / name).write_bytes(raw)
    return folder / DIR


def expected(batches, names):
    """Keras' arrays, built pixel by pixel from the layout: (row, col, channel) = data[channel*1024 + row*32 + col]."""
    row, col, channel = np.indices((32, 32, 3))
    data = np.concatenate([batches[n][0] for n in names])
    x = data[:, channel * 1024 + row * 32 + col]
    y = np.array([label for n in names for label in batches[n][1]], dtype=np.uint8).reshape(-1, 1)
    return x, y


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real data set anywhere: PYNN_DATA and HOME point into tmp_path, and nothing can be downloaded."""
    monkeypatch.setenv("PYNN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network in the tests")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return tmp_path


def check_keras_layout(result, batches):
    (x, y), (xt, yt) = result
    n = sum(len(batches[b][1]) for b in TRAIN)
    assert x.shape == (n, 32, 32, 3) and y.shape == (n, 1)
    assert xt.shape == (len(batches["test_batch"][1]), 32, 32, 3) and yt.shape == (xt.shape[0], 1)
    assert x.dtype == y.dtype == xt.dtype == yt.dtype == np.uint8
    ex, ey = expected(batches, TRAIN)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    ex, ey = expected(batches, ["test_batch"])
    np.testing.assert_array_equal(xt, ex)
    np.testing.assert_array_equal(yt, ey)


@pytest.mark.parametrize("sizes", [(4, 3, 1, 2, 5, 3), (1, 1, 1, 1, 1, 1), (6, 0, 2, 2, 2, 1)])
def test_archive_gives_keras_arrays(isolated, monkeypatch, sizes):
    batches = make_batches(sizes, seed=sum(sizes))
    raw = pickles(batches)
    order = ["data_batch_4", "test_batch", "data_batch_3", "data_batch_2", "data_batch_5", "data_batch_1"]
    given = isolated / "given"
    given.mkdir()
    sha = write_archive(given / cifar10.ARCHIVE, {n: raw[n] for n in order})
    monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: sha})
    result = cifar10.load_data(path=given)
    check_keras_layout(result, batches)
    assert result[0][0].flags.c_contiguous and result[1][0].flags.c_contiguous


def test_the_expected_archive_is_keras():
    assert cifar10.CHECKSUMS == {"cifar-10-python.tar.gz":
                                 "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"}
    assert cifar10.MIRRORS[0] + cifar10.ARCHIVE == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert len(cifar10.CLASS_NAMES) == 10 and cifar10.CLASS_NAMES[0] == "airplane"


def test_extracted_folder_and_the_order_of_places(isolated, monkeypatch):
    a, b = make_batches((2, 3, 1, 2, 2, 3), seed=1), make_batches((1, 1, 2, 1, 1, 2), seed=2)
    write_folder(isolated / "data" / "cifar10", pickles(a))  # $PYNN_DATA/cifar10/cifar-10-batches-py/
    check_keras_layout(cifar10.load_data(), a)
    # `path` comes before $PYNN_DATA; in one place the (checked) archive comes before a folder.
    sha = write_archive(isolated / cifar10.ARCHIVE, pickles(b))
    write_folder(isolated, pickles(a))
    monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: sha})
    check_keras_layout(cifar10.load_data(path=isolated), b)


def test_download_into_the_cache(isolated, monkeypatch):
    batches = make_batches((2, 1, 1, 1, 1, 2), seed=3)
    made = isolated / "made.tar.gz"
    sha = write_archive(made, pickles(batches))
    urls = []

    def serve(url, timeout=None):
        urls.append(url)
        return io.BytesIO(made.read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: "0" * 64})
    cache = isolated / "home" / ".cache" / "pynn" / "cifar10"
    with pytest.raises(DatasetError, match="does not match"):
        cifar10.load_data()
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-written left behind
    monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: sha})
    check_keras_layout(cifar10.load_data(), batches)
    assert urls[-1] == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert [p.name for p in cache.iterdir()] == [cifar10.ARCHIVE]


def test_nothing_anywhere_and_offline_names_every_place(isolated):
    given = isolated / "given"
    with pytest.raises(DatasetError) as e:
        cifar10.load_data(path=given)
    msg = str(e.value)
    for place in (given, isolated / "data" / "cifar10", isolated / "home" / ".cache" / "pynn" / "cifar10"):
        assert str(place / cifar10.ARCHIVE) in msg and str(place / DIR) in msg
    assert "no network in the tests" in msg and "PYNN_DATA" in msg and "load_data(path=" in msg
    cache = isolated / "home" / ".cache" / "pynn" / "cifar10"
    assert not cache.exists() or not any(cache.iterdir())


def test_wrong_checksum_is_refused(isolated):
    given = isolated / "given"
    given.mkdir()
    sha = write_archive(given / cifar10.ARCHIVE, pickles(make_batches((1,) * 6)))
    with pytest.raises(DatasetError, match=f"{given / cifar10.ARCHIVE}: sha256 {sha} does not match"):
        cifar10.load_data(path=given)


class Gadget:
    """Pickles as a call of `fn(*args)`: what a malicious batch would hold."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def malicious_pickles(marker):
    good = make_batches((2,) * 6)["data_batch_1"]
    command = f"touch {marker}"
    return {
        "os.system as data": (batch_pickle(Gadget(os.system, command), good[1]), "system"),
        "exec in a label": (batch_pickle(good[0], [0, Gadget(exec, f"open({str(marker)!r}, 'w')")]), "builtins.exec"),
        "the classic protocol 0 pickle": (f"cos\nsystem\n(S'{command}'\ntR.".encode(), "os.system"),
        "eval at the top": (pickle.dumps(Gadget(eval, f"open({str(marker)!r}, 'w')")), "builtins.eval"),
        "numpy's own loader": (pickle.dumps(Gadget(np.load, str(marker))), "numpy"),
    }


@pytest.mark.parametrize("case", list(malicious_pickles("m")))
@pytest.mark.parametrize("form", ["archive", "folder"])
def test_pickles_naming_other_globals_run_nothing(isolated, monkeypatch, case, form):
    marker = isolated / "marker"
    raw, global_name = malicious_pickles(marker)[case]
    members = pickles(make_batches((2,) * 6))
    members["data_batch_3"] = raw
    if form == "archive":
        sha = write_archive(isolated / cifar10.ARCHIVE, members)
        monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: sha})
        where = f"{isolated / cifar10.ARCHIVE}: member {DIR}/data_batch_3"
    else:
        where = str(write_folder(isolated, members) / "data_batch_3")
    with pytest.raises(DatasetError, match="asks for") as e:
        cifar10.load_data(path=isolated)
    assert str(e.value).startswith(where) and global_name in str(e.value)
    assert not marker.exists()


def link(name, kind):
    info = tarfile.TarInfo(f"{DIR}/{name}")
    info.type, info.linkname = kind, "/etc/passwd"
    return info


BAD_ARCHIVES = {
    # name: (change the members dict, extra tar entries, message)
    "symlink": (lambda m: m.pop("data_batch_3"), [(link("data_batch_3", tarfile.SYMTYPE), None)],
                "member cifar-10-batches-py/data_batch_3 is a symbolic link, not a regular file"),
    "hard link": (lambda m: m.pop("test_batch"), [(link("test_batch", tarfile.LNKTYPE), None)],
                  "member cifar-10-batches-py/test_batch is a hard link"),
    "folder": (lambda m: m.pop("data_batch_1"), [(link("data_batch_1", tarfile.DIRTYPE), None)],
               "data_batch_1 is a folder"),
    "missing batch": (lambda m: m.pop("data_batch_5"), [], "has no member cifar-10-batches-py/data_batch_5"),
    "twice": (lambda m: None, [(link("data_batch_2", tarfile.SYMTYPE), None)], "data_batch_2 appears twice"),
}


@pytest.mark.parametrize("case", list(BAD_ARCHIVES))
def test_bad_archive_members_are_refused(isolated, monkeypatch, case):
    change, extra, message = BAD_ARCHIVES[case]
    members = pickles(make_batches((2,) * 6))
    change(members)
    archive = isolated / cifar10.ARCHIVE
    monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: write_archive(archive, members, extra)})
    with pytest.raises(DatasetError, match=message) as e:
        cifar10.load_data(path=isolated)
    assert str(e.value).startswith(str(archive))


def bad_batches():
    data, labels = make_batches((3,) * 6)["test_batch"]
    return {
        "data 3071 wide": (batch_pickle(data[:, :3071], labels), "b'data' must be an \\(n, 3072\\) uint8 array"),
        "data 3-D": (batch_pickle(data.reshape(3, 3, 1024), labels), "shape \\(3, 3, 1024\\)"),
        "data float": (batch_pickle(data.astype(np.float32), labels), "dtype float32"),
        "data a list": (batch_pickle(data.tolist(), labels), "got a list"),
        "labels 10": (batch_pickle(data, [0, 10, 1]), "b'labels'\\[1\\] is 10"),
        "labels -1": (batch_pickle(data, [0, 1, -1]), "b'labels'\\[2\\] is -1"),
        "labels float": (batch_pickle(data, [0, 1.0, 2]), "b'labels'\\[1\\] is 1.0"),
        "labels bool": (batch_pickle(data, [True, 1, 2]), "b'labels'\\[0\\] is True"),
        "labels huge": (batch_pickle(data, [2 ** 70, 1, 2]), "is 1180591620717411303424"),
        "labels a string": (batch_pickle(data, "012"), "got a str"),
        "labels too few": (batch_pickle(data, [0, 1]), "holds 3 images but b'labels' 2 labels"),
        "not a dict": (pickle.dumps([data, labels]), "a dict with b'data' and b'labels'; got a list"),
        "str keys": (pickle.dumps({"data": data, "labels": labels}), "got a dict with keys"),
        "truncated": (batch_pickle(data, labels)[:-100], "not a readable CIFAR batch pickle"),
        "not a pickle": (b"\x00garbage", "not a readable CIFAR batch pickle"),
    }


@pytest.mark.parametrize("case", list(bad_batches()))
@pytest.mark.parametrize("form", ["archive", "folder"])
def test_bad_batches_are_refused_naming_the_file(isolated, monkeypatch, case, form):
    raw, message = bad_batches()[case]
    members = pickles(make_batches((3,) * 6))
    members["test_batch"] = raw
    if form == "archive":
        sha = write_archive(isolated / cifar10.ARCHIVE, members)
        monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: sha})
        where = f"{isolated / cifar10.ARCHIVE}: member {DIR}/test_batch: "
    else:
        where = str(write_folder(isolated, members) / "test_batch") + ": "
    with pytest.raises(DatasetError, match=message) as e:
        cifar10.load_data(path=isolated)
    assert str(e.value).startswith(where)


def test_missing_file_in_the_folder_and_a_broken_archive(isolated, monkeypatch):
    members = pickles(make_batches((1,) * 6))
    del members["test_batch"]
    folder = write_folder(isolated / "a", members)
    with pytest.raises(DatasetError, match=f"{folder / 'test_batch'}: missing"):
        cifar10.load_data(path=isolated / "a")
    (isolated / "b").mkdir()
    archive = isolated / "b" / cifar10.ARCHIVE
    for content in (b"not gzip at all", write_tar_gz_prefix(members)):
        archive.write_bytes(content)
        monkeypatch.setattr(cifar10, "CHECKSUMS", {cifar10.ARCHIVE: hashlib.sha256(content).hexdigest()})
        with pytest.raises(DatasetError, match=f"{archive}: "):
            cifar10.load_data(path=isolated / "b")


def write_tar_gz_prefix(members):
    """A tar.gz cut off in the middle of a batch."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, raw in members.items():
            info = tarfile.TarInfo(f"{DIR}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()[: len(buf.getvalue()) // 2]


# --- the example ---------------------------------------------------------------------------------

def conv_params(k, c_in, filters):
    return k * k * c_in * filters + filters


# Keras' summary of this architecture: 1,250,858 parameters.
CIFAR10_CONVNET_PARAMS = (conv_params(3, 3, 32) + conv_params(3, 32, 32)      # 896 + 9,248
                          + conv_params(3, 32, 64) + conv_params(3, 64, 64)   # 18,496 + 36,928
                          + (6 * 6 * 64) * 512 + 512                          # 32 -> 30 -> 15 -> 13 -> 6: 1,180,160
                          + 512 * 10 + 10)                                    # 5,130


def learnable_images(n, seed):
    """CIFAR-shaped uint8 images: one mean image per class (the same for every seed) plus noise,
    labels (n, 1)."""
    means = np.random.default_rng(10).uniform(40, 215, (10, 32, 32, 3))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, (n, 1)).astype(np.uint8)
    x = np.clip(means[y[:, 0]] + rng.normal(0, 40, (n, 32, 32, 3)), 0, 255).astype(np.uint8)
    return x, y


def test_cifar10_convnet_learns_generated_images():
    from pynn.examples import cifar10 as example

    assert CIFAR10_CONVNET_PARAMS == 1250858
    data = (learnable_images(1024, 0), learnable_images(200, 1))
    model, history, test_loss, test_acc = example.run(epochs=2, batch_size=64, verbose=0, data=data)
    assert model.count_params() == CIFAR10_CONVNET_PARAMS
    assert [layer.__class__.__name__ for layer in model.layers] == [
        "Conv2D", "Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "Conv2D", "MaxPooling2D", "Dropout",
        "Flatten", "Dense", "Dropout", "Dense"]
    assert model.output_shape == (None, 10)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0], losses
    assert test_acc > 0.5, (test_acc, test_loss)  # chance is 0.1
    train = {(tuple(i["batch"][0]), i["path"]) for i in model.plan_info() if i["mode"] == "train"}
    assert ((64, 32, 32, 3), "captured") in train, model.plan_info()
    assert all(path != "eager" for _, path in train), model.plan_info()
