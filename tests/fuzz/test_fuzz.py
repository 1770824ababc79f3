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
