"""model.save / load_model, save_weights / load_weights: round trips, atomic writes, damaged files."""

import json
import os
import zipfile

import numpy as np
import pytest

import pynn
from pynn import layers, optimizers
from pynn.models import load_model
from oracle import python_child


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def sequential():
    return pynn.Sequential([
        layers.Input((6,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(), layers.Dropout(0.2),
        layers.Dense(2, activation="softmax"),
    ])


def functional():
    inputs = layers.Input((6,), name="pixels")
    h = layers.Dense(5, activation="tanh", kernel_initializer="he_normal")(inputs)
    h = layers.Reshape((5, 1))(h)
    h = layers.Flatten()(h)
    return pynn.Model(inputs, layers.Dense(2, activation="softmax")(h), name="func")


def trained(make):
    pynn.random.seed(0)
    model = make()
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*data(), epochs=2, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("make", [sequential, functional])
def test_save_load_round_trip(tmp_path, make):
    model = trained(make)
    path = tmp_path / "model.pynn"
    model.save(path)
    again = load_model(path)
    assert type(again) is type(model) and again.name == model.name
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in model.layers]
    x, y = data(seed=1)
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert again.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    # compiled again with the optimizer's state: training on continues identically
    assert again.optimizer.iterations == model.optimizer.iterations
    pynn.random.seed(5)
    model.fit(x, y, epochs=1, verbose=0)
    pynn.random.seed(5)
    again.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), again.get_weights()):
        assert np.array_equal(a, b)


def test_uncompiled_and_lazily_built_models(tmp_path):
    model = pynn.Sequential([layers.Dense(3), layers.Dense(1)])
    with pytest.raises(ValueError, match="no weights yet"):
        model.save(tmp_path / "m.pynn")
    model(np.ones((2, 4), np.float32))
    model.save(tmp_path / "m.pynn")
    again = load_model(tmp_path / "m.pynn")
    assert not again.compiled
    x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_round_trip_and_mismatch(tmp_path):
    model = trained(sequential)
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    other = sequential()
    other.load_weights(path)
    for a, b in zip(other.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
    with np.load(path, allow_pickle=False) as npz:  # a plain .npz anyone can read
        assert str(npz["paths"][0]).endswith("/kernel")
    model.save(tmp_path / "full.pynn")
    other.load_weights(tmp_path / "full.pynn")  # a model file holds weights too
    wrong = pynn.Sequential([layers.Input((6,)), layers.Dense(9), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"w\.weights\.npz: the file holds 8 weights, the model has 4"):
        wrong.load_weights(path)
    wider = pynn.Sequential([layers.Input((6,)), layers.Dense(9, activation="relu"), layers.BatchNormalization(),
                             layers.Dropout(0.2), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"weight 0 \(.*kernel\) has shape \(6, 8\), the model's .* \(6, 9\)"):
        wider.load_weights(path)


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight((input_shape[-1],), "ones", name="w")

    def call(self, x):
        return pynn.multiply(x, self.w) * self.factor

    def get_config(self):
        return dict(super().get_config(), factor=self.factor)


def test_custom_layer_needs_custom_objects(tmp_path):
    model = pynn.Sequential([layers.Input((3,)), Scale(3.0)])
    model.save(tmp_path / "c.pynn")
    with pytest.raises(ValueError, match="unknown layer class 'Scale'.*custom_objects"):
        load_model(tmp_path / "c.pynn")
    again = load_model(tmp_path / "c.pynn", custom_objects={"Scale": Scale})
    assert again.layers[0].factor == 3.0
    assert np.array_equal(again.predict(np.ones((1, 3), np.float32), verbose=0), np.full((1, 3), 3.0, np.float32))


class Sub(pynn.Model):
    def __init__(self):
        super().__init__()
        self.d = layers.Dense(2)

    def call(self, x):
        return self.d(x)


def test_subclassed_model_saves_weights_not_architecture(tmp_path):
    model = Sub()
    model(np.ones((1, 3), np.float32))
    with pytest.raises(NotImplementedError, match="subclassed model.*save_weights"):
        model.save(tmp_path / "s.pynn")
    model.save_weights(tmp_path / "s.npz")
    other = Sub()
    other(np.ones((1, 3), np.float32))
    other.load_weights(tmp_path / "s.npz")
    assert np.array_equal(other.get_weights()[0], model.get_weights()[0])


# ---------------------------------------------------------------- damaged files

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.pynn"
    trained(sequential).save(path)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pynn"):
        load_model(tmp_path / "nothing.pynn")
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        sequential().load_weights(tmp_path / "nothing.npz")


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9, 0.999])
def test_truncated_file(saved, keep):
    blob = saved.read_bytes()
    saved.write_bytes(blob[:int(len(blob) * keep)])
    with pytest.raises(ValueError, match=f"{saved.name}: "):
        load_model(saved)


def test_flipped_bytes_are_detected(saved):
    blob = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo("weights.npz")
    # flip a byte inside the weights member's data (after its 30-byte local header and name)
    at = info.header_offset + 30 + len(info.filename) + info.file_size // 2
    blob[at] ^= 0xFF
    saved.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=rf"{saved.name}: .*(CRC|damaged|corrupt)"):
        load_model(saved)


def _rewrite(path, change):
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)


def test_bad_members(saved):
    _rewrite(saved, lambda m: m.update({"pynn_model.json": b"{not json"}))
    with pytest.raises(ValueError, match="pynn_model.json is not valid JSON"):
        load_model(saved)

    def other_format(m):
        m["pynn_model.json"] = json.dumps({"format": "something", "version": 1}).encode()

    _rewrite(saved, other_format)
    with pytest.raises(ValueError, match="does not describe a pynn model"):
        load_model(saved)
    _rewrite(saved, lambda m: m.pop("weights.npz"))
    with pytest.raises(ValueError, match="not a pynn model file"):
        load_model(saved)


def test_unknown_version_and_bad_config(saved):
    def bump(m):
        c = json.loads(m["pynn_model.json"])
        c["version"] = 99
        m["pynn_model.json"] = json.dumps(c).encode()

    _rewrite(saved, bump)
    with pytest.raises(ValueError, match="format version 99"):
        load_model(saved)

    def break_units(m):
        c = json.loads(m["pynn_model.json"])
        c["version"] = 1
        c["config"]["layers"][1]["config"]["units"] = -4
        m["pynn_model.json"] = json.dumps(c).encode()

    _rewrite(saved, break_units)
    with pytest.raises(ValueError, match="cannot be rebuilt.*units must be a positive int"):
        load_model(saved)


def test_random_bytes_are_not_a_model(tmp_path):
    path = tmp_path / "junk.pynn"
    path.write_bytes(os.urandom(1000))
    with pytest.raises(ValueError, match="junk.pynn: not a pynn model or weights file"):
        load_model(path)
    with pytest.raises(ValueError, match="junk.pynn: not a pynn model or weights file"):
        sequential().load_weights(path)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(saved, monkeypatch):
    before = saved.read_bytes()
    model = trained(functional)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(saved)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_saved_file_permissions_are_ordinary(tmp_path):
    path = tmp_path / "w.npz"
    sequential().save_weights(path)
    mask = os.umask(0)
    os.umask(mask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~mask)


def test_saving_follows_the_umask_of_the_moment(tmp_path):
    # the file gets the permissions open() would give now (no umask captured or changed at import)
    old = os.umask(0o077)
    try:
        sequential().save_weights(tmp_path / "private.npz")
        trained(sequential).save(tmp_path / "private.pynn")
    finally:
        os.umask(old)
    assert (tmp_path / "private.npz").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "private.pynn").stat().st_mode & 0o777 == 0o600


KILLED_SAVE = """
import os, signal, sys
import numpy as np
import pynn
from pynn import saving

model = pynn.Sequential([pynn.layers.Input((6,)), pynn.layers.Dense(300), pynn.layers.Dense(2)])
saving.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # killed with the data written, unrenamed
model.save(sys.argv[1])
"""


def test_a_save_killed_midway_leaves_the_target_and_the_next_save_removes_its_temporary(saved):
    import signal

    before = saved.read_bytes()
    run = python_child(KILLED_SAVE, str(saved), capture_output=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert saved.read_bytes() == before
    left = [n for n in os.listdir(saved.parent) if n != saved.name]
    assert len(left) == 1 and left[0].startswith(f".{saved.name}.pynn-tmp-")
    # temporaries of a live writer, of another target, or of another name are not ours to remove
    for keep in (f".{saved.name}.pynn-tmp-{os.getpid()}-{'0' * 16}", f".other.pynn.pynn-tmp-999999999-{'0' * 16}",
                 f"{saved.name}.1234.tmp"):
        (saved.parent / keep).write_bytes(b"")
    model = trained(functional)
    model.save(saved)
    assert load_model(saved).name == "func"
    assert sorted(os.listdir(saved.parent)) == sorted([saved.name, f".{saved.name}.pynn-tmp-{os.getpid()}-{'0' * 16}",
                                                       f".other.pynn.pynn-tmp-999999999-{'0' * 16}",
                                                       f"{saved.name}.1234.tmp"])


def test_the_directory_is_synced_after_the_rename(tmp_path, monkeypatch):
    import stat

    from pynn import saving

    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), os.path.exists(tmp_path / "w.npz")))
        real(fd)

    monkeypatch.setattr(saving.os, "fsync", fsync)
    sequential().save_weights(tmp_path / "w.npz")
    assert synced == [(False, False), (True, True)]  # the data before the rename, the directory after


def test_write_errors_name_the_target(saved, monkeypatch):
    import errno

    from pynn import saving

    before = saved.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saving.os, "fsync", full)
    with pytest.raises(OSError, match=rf"save: No space left on device: '.*{saved.name}'") as info:
        trained(sequential).save(saved)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(saved)
    with pytest.raises(OSError, match=rf"save_weights: No space left on device: '.*{saved.name}'"):
        sequential().save_weights(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError, match=r"save_weights: No such file or directory: '.*no_dir.w\.npz'") as info:
        sequential().save_weights(saved.parent / "no_dir" / "w.npz")
    assert info.value.filename == str(saved.parent / "no_dir" / "w.npz")


def test_read_errors_keep_their_class_and_name_the_path(saved, monkeypatch):
    import errno

    from pynn import saving

    def failing(f, n, at):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(saving, "_pread", failing)
    with pytest.raises(OSError, match=rf"load_model: Input/output error: '.*{saved.name}'") as info:
        load_model(saved)
    assert info.value.errno == errno.EIO and not isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="max_bytes must be non-negative"):
        load_model(saved, max_bytes=-1)
