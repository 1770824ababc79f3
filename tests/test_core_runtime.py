"""Threads, SIMD paths, the caching allocator."""

import os

import numpy as np
import pytest

import pynn
from oracle import python_child


def test_num_threads_round_trip():
    old = pynn.get_num_threads()
    try:
        pynn.set_num_threads(1)
        assert pynn.get_num_threads() == 1
        pynn.set_num_threads(2)
        assert pynn.get_num_threads() == 2
        with pytest.raises(ValueError, match=">= 1"):
            pynn.set_num_threads(0)
    finally:
        pynn.set_num_threads(old)


def test_isa_switch():
    isas = pynn.supported_cpu_isas()
    assert isas[0] == "generic" and pynn.get_cpu_isa() in isas
    old = pynn.get_cpu_isa()
    try:
        for name in isas:
            pynn.set_cpu_isa(name)
            assert pynn.get_cpu_isa() == name
            assert pynn._core._gemm_info()["isa"] == name
    finally:
        pynn.set_cpu_isa(old)
    with pytest.raises(ValueError, match="unknown ISA"):
        pynn.set_cpu_isa("sse9")


def run_python(code, **env):
    return python_child(code, env=dict(os.environ, **env), capture_output=True, text=True, check=True).stdout.strip()


def test_environment_variables():
    for name in pynn.supported_cpu_isas():
        assert run_python("import pynn; print(pynn.get_cpu_isa())", PYNN_CPU=name) == name
    assert run_python("import pynn; print(pynn.get_num_threads())", OMP_NUM_THREADS="1") == "1"


def test_caching_allocator_reuses_blocks():
    a = pynn.ones(10**6)
    b = pynn.ones(10**6)
    for _ in range(3):  # warm the cache
        (a + b)
    before = pynn.memory_stats()
    for _ in range(50):
        c = a + b
        del c
    after = pynn.memory_stats()
    assert set(before) >= {"allocated_bytes", "cached_bytes", "peak_bytes"}
    assert after["allocated_bytes"] + after["cached_bytes"] <= before["allocated_bytes"] + before["cached_bytes"]
    assert after["num_os_allocs"] == before["num_os_allocs"]  # every block came from the cache
    assert after["peak_bytes"] >= after["allocated_bytes"]


def test_results_survive_interleaved_numpy_blas():
    rng = np.random.default_rng(18)
    a = rng.standard_normal((128, 300)).astype(np.float32)
    b = rng.standard_normal((300, 64)).astype(np.float32)
    for _ in range(5):
        ref = a.astype(np.float64) @ b
        got = np.asarray(pynn.from_numpy(a) @ pynn.from_numpy(b))
        assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 1e-5
