"""The one test helper: NumPy is the oracle.

assert_like_numpy checks shape, dtype and values of a pynn result against the
NumPy answer; the strategies draw dtypes, broadcastable shapes and strided
views; the fixtures run a test on 1 and 2 threads and on every SIMD path.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pynn

_quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
# CI: reproducible and quick. PYNN_HYPOTHESIS_PROFILE=thorough for a long hunt.
settings.register_profile("pynn", max_examples=60, deadline=None, derandomize=True, suppress_health_check=_quiet)
settings.register_profile("thorough", max_examples=1500, deadline=None, suppress_health_check=_quiet)
settings.load_profile(os.environ.get("PYNN_HYPOTHESIS_PROFILE", "pynn"))

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
FLOATS = ["float32", "float64"]
TINY = {"float32": np.finfo(np.float32).tiny, "float64": np.finfo(np.float64).tiny}


def assert_like_numpy(actual, expected, *, rtol=None, atol=None):
    """actual (a pynn Tensor) has expected's shape and dtype and its values:
    exact for integers and bools, within a dtype-sized tolerance for floats,
    with NaN in the same places."""
    assert isinstance(actual, pynn.Tensor), f"expected a pynn.Tensor, got {type(actual).__name__}"
    got = np.asarray(actual)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != numpy's {expected.shape}"
    assert got.dtype == expected.dtype, f"dtype {got.dtype} != numpy's {expected.dtype}"
    if got.dtype.kind == "f":
        tol = {"float32": (2e-6, 1e-6), "float64": (1e-12, 1e-12)}[got.dtype.name]
        rtol = tol[0] if rtol is None else rtol
        atol = max(tol[1] if atol is None else atol, TINY[got.dtype.name])
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def random_array(rng, shape, dtype):
    """Values that exercise each dtype without overflow surprises."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        lo = 0 if dtype.kind == "u" else -50
        return np.asarray(rng.integers(lo, 50, size=shape)).astype(dtype)
    return np.asarray(rng.standard_normal(shape)).astype(dtype)


def strided_views(a):
    """The same values as non-contiguous views: transposed, stepped, reversed, offset."""
    views = [a]
    if a.ndim >= 2:
        views.append(a.T.copy(order="C").T)  # F-ordered
    if a.ndim >= 1 and a.shape[-1] > 0:
        big = np.repeat(a, 2, axis=-1)[..., ::2]  # stride 2 in the last axis
        views.append(big)
        views.append(a[..., ::-1].copy(order="C")[..., ::-1])  # negative stride
    return views


def as_pynn_both_ways(view):
    """Two pynn inputs with the view's values: one sharing NumPy's memory, one
    made by slicing a pynn tensor the same way."""
    yield pynn.from_numpy(view)
    yield pynn.tensor(view.copy(order="C"))


# ------------------------------------------------------------------ strategies

dtype_st = st.sampled_from(DTYPES)


def shapes_st(num_shapes=2, max_dims=4, min_side=0, max_side=5):
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


# ------------------------------------------------------------------ fixtures

@pytest.fixture(params=[1, 2], ids=lambda n: f"threads{n}")
def threads(request):
    old = pynn.get_num_threads()
    pynn.set_num_threads(request.param)
    yield request.param
    pynn.set_num_threads(old)


@pytest.fixture(params=pynn.supported_cpu_isas())
def isa(request):
    old = pynn.get_cpu_isa()
    pynn.set_cpu_isa(request.param)
    yield request.param
    pynn.set_cpu_isa(old)


def python_child(code, *args, env=None, **kwargs):
    """subprocess.run of `python -c code *args` importing the same pynn as this process: its
    parent folder first on PYTHONPATH, and run from a temporary folder, since a source tree
    in the working folder (CI runs the tests from the repository root) would shadow an
    installed pynn that has the compiled module."""
    env = dict(os.environ if env is None else env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(pynn.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    kwargs.setdefault("cwd", tempfile.gettempdir())
    return subprocess.run([sys.executable, "-c", code, *args], env=env, **kwargs)


def captured_and_eager(make, run, expect="captured", modes=("train",)):
    """The eager step is the oracle of the captured one (Note [Captured steps]): run(model) on
    a model from make(**compile_options), once as compiled by default (captured) and once
    with run_eagerly=True, pynn's generator seeded alike before each; returns both results
    (after checking that the first model's `modes` took the `expect` path) and both models."""
    results = []
    for options in ({}, {"run_eagerly": True}):
        pynn.random.seed(0)
        model = make(**options)
        pynn.random.seed(7)
        results.append((run(model), model))
    paths = {info["path"] for info in results[0][1].plan_info()
             if info.get("mode") in modes and info["path"] != "pending"}
    assert paths == {expect}, f"expected the {modes} steps to be {expect}, got {results[0][1].plan_info()}"
    assert {info["path"] for info in results[1][1].plan_info()} <= {"eager"}
    return results


def assert_same_state(a, b):
    """Two models hold the same weights, optimizer variables and metric results, bit for bit."""
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    if a.optimizer is not None and a.optimizer.built:
        for sa, sb in zip(a.optimizer.variables, b.optimizer.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(sa), np.asarray(sb))
    np.testing.assert_equal([m.result() for m in a.metrics], [m.result() for m in b.metrics])
