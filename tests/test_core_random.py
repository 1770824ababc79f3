"""pynn.random as a NumPy-style module (Note [NumPy-style random]): NumPy's arguments and dtypes,
tensors out, one seeded generator. The oracle is NumPy's own PCG64 Generator with the same seed."""

import numpy as np
import pytest

import pynn


def _np(seed):
    return np.random.default_rng(seed)


def test_rand_randn_random_are_numpy_float64_draws():
    pynn.random.seed(3)
    a, b, c = pynn.random.rand(2, 3), pynn.random.randn(4), pynn.random.random((2, 2))
    g = _np(3)
    for got, want in ((a, g.random((2, 3))), (b, g.standard_normal((4,))), (c, g.random((2, 2)))):
        assert isinstance(got, pynn.Tensor) and got.dtype == pynn.float64
        np.testing.assert_array_equal(np.asarray(got), want)
    assert isinstance(pynn.random.rand(), float) and isinstance(pynn.random.randn(), float)
    assert pynn.random.random_sample is pynn.random.random


def test_integers_randint_choice():
    pynn.random.seed(5)
    g = _np(5)
    r = pynn.random.randint(0, 10, size=7)
    assert r.dtype == pynn.int64
    np.testing.assert_array_equal(np.asarray(r), g.integers(0, 10, (7,)))
    np.testing.assert_array_equal(np.asarray(pynn.random.integers(3, size=(2, 2))), g.integers(3, None, (2, 2)))
    np.testing.assert_array_equal(np.asarray(pynn.random.choice(60000, 100)), g.choice(60000, (100,)))
    no_rep = pynn.random.choice(10, 10, replace=False)
    np.testing.assert_array_equal(np.asarray(no_rep), g.choice(10, (10,), replace=False))
    assert sorted(np.asarray(no_rep).tolist()) == list(range(10))
    p = [0.0, 0.0, 1.0]
    np.testing.assert_array_equal(np.asarray(pynn.random.choice(3, 5, p=p)), [2] * 5)
    picked = pynn.random.choice(pynn.tensor([10, 20, 30]), 4)
    assert set(np.asarray(picked).tolist()) <= {10, 20, 30}


def test_permutation_and_shuffle_act_on_tensors():
    pynn.random.seed(1)
    g = _np(1)
    np.testing.assert_array_equal(np.asarray(pynn.random.permutation(6)), g.permutation(6))
    x = pynn.tensor(np.arange(12).reshape(6, 2))
    p = pynn.random.permutation(x)
    np.testing.assert_array_equal(np.asarray(p), g.permutation(np.arange(12).reshape(6, 2)))
    np.testing.assert_array_equal(np.asarray(x), np.arange(12).reshape(6, 2))   # a copy: x unchanged
    pynn.random.shuffle(x)                                                   # in place, rows kept whole
    want = np.arange(12).reshape(6, 2)
    g.shuffle(want)
    np.testing.assert_array_equal(np.asarray(x), want)
    strided = pynn.tensor(np.arange(20).reshape(10, 2))[::-2]               # a negative-stride view
    before = sorted(map(tuple, np.asarray(strided).tolist()))
    pynn.random.shuffle(strided)
    assert sorted(map(tuple, np.asarray(strided).tolist())) == before


def test_default_rng_takes_numpy_arguments():
    rng, g = pynn.random.default_rng(42), _np(42)
    np.testing.assert_array_equal(np.asarray(rng.normal(1.0, 2.0, size=(3,))), g.normal(1.0, 2.0, (3,)))
    np.testing.assert_array_equal(np.asarray(rng.uniform(-1, 1, 4)), g.uniform(-1, 1, (4,)))
    r = rng.random(3, dtype="float32")
    assert r.dtype == pynn.float32
    np.testing.assert_array_equal(np.asarray(r), g.random(3, dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(rng.integers(0, 5, 6, endpoint=True)), g.integers(0, 5, 6, endpoint=True))
    assert isinstance(rng.normal(), float)


def test_private_generators_leave_the_global_stream_alone():
    pynn.random.seed(9)
    pynn.random.default_rng(1).random(100)
    np.testing.assert_array_equal(np.asarray(pynn.random.rand(3)), _np(9).random(3))


def test_keras_style_normal_uniform_keep_their_contract():
    t = pynn.random.normal((2, 3), mean=1.0, stddev=0.5)
    u = pynn.random.uniform((4,), minval=-1.0, maxval=1.0)
    assert t.shape == (2, 3) and t.dtype == pynn.float32
    assert u.shape == (4,) and u.dtype == pynn.float32 and float(abs(u).max()) <= 1.0


@pytest.mark.parametrize("call,exc,words", [
    (lambda: pynn.random.rand((2, 3)), TypeError, "rand"),
    (lambda: pynn.random.randn(-1), ValueError, "randn"),
    (lambda: pynn.random.rand(2.5), TypeError, "rand"),
    (lambda: pynn.random.random(size=-3), ValueError, "random"),
    (lambda: pynn.random.choice(["a", None], 2), TypeError, "choice"),
    (lambda: pynn.random.seed(-1), ValueError, "seed"),
])
def test_bad_arguments_raise_clear_errors(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
