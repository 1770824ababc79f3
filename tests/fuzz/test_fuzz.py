"""CI entry of the fuzzer (tests/fuzz/README.md): a few thousand seeded calls over the public API,
run in child processes so a crash or a hang is caught, located and printed as a reproducer.

PYNN_FUZZ_CALLS (default 5000) and PYNN_FUZZ_SEED (default 0; several as "1,2,3") size the run.
"""

import os

import pytest

from . import fuzzer


def test_fuzz_public_api():
    calls = int(os.environ.get("PYNN_FUZZ_CALLS", "5000"))
    seeds = os.environ.get("PYNN_FUZZ_SEED", "0").split(",")
    jobs = max(1, min(4, os.cpu_count() or 1))
    batch = max(50, min(1000, calls // (2 * jobs)))
    records = []
    for seed in seeds:
        records += fuzzer.fuzz(seed, calls, batch=batch, jobs=jobs)
    if records:
        pytest.fail(
            f"{len(records)} fuzz failures (seeds {','.join(seeds)}, {calls} calls each); one reproducer per "
            f"root cause below (paste it into python started at the repository root)\n"
            + fuzzer.summarize(records, max_groups=80),
            pytrace=False,
        )


def test_harness_locates_a_planted_crash_hang_and_error(monkeypatch):
    # Calls 3, 6 and 8 are replaced by a SIGSEGV, an endless loop and a wrong exception type; the
    # harness must name each call, with the crash and the hang reproduced alone, and go on after them.
    monkeypatch.setenv("PYNN_FUZZ_SELFTEST", "signal:3,hang:6,error:8")
    monkeypatch.setattr(fuzzer, "CALL_TIMEOUT", 2.0)
    records = fuzzer.fuzz("selftest", 10, batch=10, jobs=1)
    planted = {r["i"]: r for r in records if r["i"] in (3, 6, 8)}
    assert planted[3]["cat"] == "signal" and "SIGSEGV" in planted[3]["detail"]
    assert planted[3]["sequence"] == [3]
    assert planted[6]["cat"] == "hang" and planted[6]["sequence"] == [6]
    assert planted[8]["cat"] == "wrong-exception-type" and "planted" in planted[8]["detail"]
    assert "os.kill(os.getpid(), signal.SIGSEGV)" in fuzzer.reproducer(planted[3])
    assert fuzzer.generate("selftest", 4).source() == fuzzer.generate("selftest", 4).source()
