"""Read-only memory (Note [Writeable flag] in csrc/core/tensor.h): every write path refuses a
read-only destination with NumPy's ValueError and leaves the memory as it was; reading works
and shares memory; copies are writeable."""

import mmap

import numpy as np
import pytest

import pynn
from pynn import _core

READ_ONLY = "assignment destination is read-only"


def _mmap_array(tmp_path):
    f = tmp_path / "a.npy"
    np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3))
    return np.load(f, mmap_mode="r")


def _frombuffer_array(tmp_path):
    return np.frombuffer(bytes(range(24)), np.float32).reshape(2, 3)


def _locked_array(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    a.flags.writeable = False
    return a


SOURCES = {"mmap": _mmap_array, "frombuffer": _frombuffer_array, "locked": _locked_array}


@pytest.fixture(params=sorted(SOURCES))
def ro(request, tmp_path):
    """(tensor, its read-only NumPy array, a copy of the original values)."""
    a = SOURCES[request.param](tmp_path)
    assert not a.flags.writeable
    return pynn.from_numpy(a), a, np.array(a)


def _write_paths(t):
    """Every way to write into an existing tensor t (2, 3) float32."""
    def iadd():
        u = t
        u += 1

    def isub():
        u = t
        u -= 1

    def imul():
        u = t
        u *= 2

    def idiv():
        u = t
        u /= 2

    def reduction_out():
        np.sum(pynn.zeros((3, 2)), axis=0, out=t[0])

    return {
        "setitem_int": lambda: t.__setitem__(0, 1.0),
        "setitem_ellipsis": lambda: t.__setitem__(Ellipsis, np.ones((2, 3), np.float32)),
        "setitem_view": lambda: t[:, 1:].__setitem__(Ellipsis, 0.0),
        "iadd": iadd, "isub": isub, "imul": imul, "idiv": idiv,
        "add_out": lambda: pynn.add(t, 1, out=t),
        "subtract_out": lambda: pynn.subtract(1, 2, out=t),
        "maximum_out": lambda: pynn.maximum(t, 3, out=t),
        "equal_out": lambda: pynn.equal(t, t, out=t),  # bool result cast into float32 out
        "exp_out": lambda: pynn.exp(t, out=t),
        "negative_out": lambda: pynn.negative(t, out=t),
        "relu_out_view": lambda: pynn.relu(t.T, out=t.T),
        "clip_out": lambda: pynn.clip(t, 0, 1, out=t),
        "clip_none_out": lambda: pynn.clip(t, None, None, out=t),
        "reduction_out": reduction_out,
        "random_shuffle": lambda: pynn.random.shuffle(t),
        "optim_update": lambda: _core._optim_update(_core._OptimRule.sgd, [t, pynn.ones((2, 3))], [0.1, 0.0, 0.0]),
        "optim_update_slot": lambda: _core._optim_update(
            _core._OptimRule.sgd, [pynn.zeros((2, 3)), pynn.ones((2, 3)), t], [0.1, 0.9, 0.0]),
    }


WRITE_PATHS = sorted(_write_paths(None))


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_every_write_path_refuses_read_only_memory(ro, path):
    t, a, before = ro
    with pytest.raises(ValueError, match=READ_ONLY):
        _write_paths(t)[path]()
    np.testing.assert_array_equal(a, before)


def test_from_numpy_keeps_the_flag_and_shares_memory(ro):
    t, a, before = ro
    assert not t.writeable
    assert t._data_ptr == a.__array_interface__["data"][0]
    np.testing.assert_array_equal(t.numpy(), before)
    assert float(pynn.sum(t)) == float(before.sum())
    np.testing.assert_allclose(pynn.exp(t).numpy(), np.exp(before), rtol=1e-6)


def test_views_inherit_read_only(ro):
    t = ro[0]
    for v in (t[0], t[:, ::2], t[None], t[...], t.T, t.reshape(3, 2), pynn.transpose(t), pynn.expand_dims(t, 0),
              pynn.squeeze(t[None]), pynn.Tensor(t)):
        assert not v.writeable
        with pytest.raises(ValueError, match=READ_ONLY):
            v[...] = 0


def test_numpy_views_of_a_read_only_tensor_are_read_only(ro):
    t, a, before = ro
    for n in (t.numpy(), np.asarray(t), np.asarray(t[:, 1])):
        assert not n.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            n[...] = 0
    np.testing.assert_array_equal(a, before)


def test_copies_of_a_read_only_tensor_are_writeable(ro):
    t, a, before = ro
    for c in (t.copy(), t.astype("float64"), t.T.contiguous(), t.T.reshape(-1), pynn.tensor(t), pynn.tensor(a)):
        assert c.writeable
        c[...] = 7
        np.testing.assert_array_equal(c.numpy(), np.full(c.shape, 7))
    np.testing.assert_array_equal(a, before)


def test_writeable_numpy_arrays_stay_writeable():
    a = np.zeros(3, np.float32)
    t = pynn.from_numpy(a)
    assert t.writeable and t.numpy().flags.writeable
    t[1] = 5
    t += 1
    assert a.tolist() == [1, 6, 1]


def test_frombuffer_bytes_are_never_changed():
    b = bytes(8)
    t = pynn.from_numpy(np.frombuffer(b, np.uint8))
    for f in (lambda: t.__setitem__(0, 1), lambda: pynn.add(t, 1, out=t)):
        with pytest.raises(ValueError, match=READ_ONLY):
            f()
    assert b == bytes(8)


def test_mmap_read_only_file_write_raises_instead_of_crashing(tmp_path):
    # The crash of the issue: writing a mode "r" memory map (a SIGSEGV before the flag existed).
    f = tmp_path / "m.npy"
    np.save(f, np.arange(4.0))
    a = np.load(f, mmap_mode="r")
    assert isinstance(a.base, mmap.mmap)
    with pytest.raises(ValueError, match="setitem: " + READ_ONLY):
        pynn.from_numpy(a)[0] = 1
    assert np.load(f).tolist() == [0, 1, 2, 3]


def test_broadcast_to_views_are_read_only_as_numpy():
    base = pynn.tensor([1.0, 2.0])
    b = pynn.broadcast_to(base, (3, 2))
    assert not np.broadcast_to(np.array([1.0, 2.0]), (3, 2)).flags.writeable  # the oracle
    assert not b.writeable and not b.numpy().flags.writeable
    for f in (lambda: b.__setitem__(0, 9.0), lambda: pynn.add(b, 1, out=b), lambda: b.__imul__(2)):
        with pytest.raises(ValueError, match=READ_ONLY):
            f()
    assert base.tolist() == [1.0, 2.0]
    assert base.writeable  # the source keeps its flag
    assert b.copy().writeable


def test_locking_a_tensor_and_refusing_to_unlock():
    t = pynn.zeros(3)
    t.writeable = False
    with pytest.raises(ValueError, match=READ_ONLY):
        t[0] = 1
    with pytest.raises(ValueError, match="writeable"):
        t.writeable = True
    assert not t[1:].writeable
    ro = pynn.from_numpy(_locked_array(None))
    with pytest.raises(ValueError):
        ro.writeable = True


def test_variable_assign_paths_refuse_a_locked_variable():
    v = pynn.Variable([1.0, 2.0])
    v.writeable = False
    for f in (lambda: v.assign([5.0, 5.0]), lambda: v.assign_add([1.0, 1.0]), lambda: v.assign_sub([1.0, 1.0])):
        with pytest.raises(ValueError, match=READ_ONLY):
            f()
    assert v.tolist() == [1.0, 2.0]


OPTIMIZERS = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adamax", "Nadam", "Adadelta", "Lion", "Ftrl"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_refuse_read_only_variables_before_any_update(name):
    opt = getattr(pynn.optimizers, name)(learning_rate=0.1)
    ok, locked = pynn.Variable([1.0, 2.0]), pynn.Variable([3.0, 4.0])
    locked.writeable = False
    with pytest.raises(ValueError, match=READ_ONLY):
        opt.apply([pynn.ones(2), pynn.ones(2)], [ok, locked])
    assert ok.tolist() == [1.0, 2.0] and locked.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fused_updates_refuse_read_only_memory(name):
    # Below the Python check: the C++ update itself refuses a read-only variable.
    opt = getattr(pynn.optimizers, name)(learning_rate=0.1)
    v = pynn.Variable([1.0, 2.0])
    opt.build([v])
    v.writeable = False
    with pytest.raises(ValueError, match=READ_ONLY):
        opt.update_step(pynn.ones(2), v, 0.1)
    assert v.tolist() == [1.0, 2.0]


def test_a_captured_step_refuses_weights_locked_between_steps():
    # The replayed optimizer update checks the destination as the eager one does.
    pynn.random.seed(0)
    m = pynn.Sequential([pynn.layers.Input((3,)), pynn.layers.Dense(2)])
    m.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32)
    m.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert m.plan_info()[0]["path"] == "captured"
    kernel = m.trainable_variables[0]
    before = kernel.numpy().copy()
    kernel.writeable = False
    with pytest.raises(ValueError, match=READ_ONLY):
        m.fit(x, y, batch_size=2, epochs=1, verbose=0)
    np.testing.assert_array_equal(kernel.numpy(), before)


def test_read_only_inputs_still_work_everywhere(ro):
    t, a, before = ro
    out = pynn.zeros((2, 3))
    pynn.add(t, t, out=out)
    np.testing.assert_array_equal(out.numpy(), before + before)
    w = pynn.zeros((2, 3))
    w[...] = t
    np.testing.assert_array_equal(w.numpy(), before)
    np.testing.assert_allclose((t @ t.T).numpy(), before @ before.T, rtol=1e-6)
    v = pynn.Variable(np.zeros((2, 3), np.float32))
    pynn.optimizers.SGD(1.0).apply([t], [v])  # a read-only gradient is only read
    np.testing.assert_array_equal(v.numpy(), -before)
