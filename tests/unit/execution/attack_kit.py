"""Helpers for the sandbox's attack tests: layer skips and the batch around an attack."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from stepcode.execution import Job, RawRun, SandboxPool, detect_isolation, run_jobs
from stepcode.types import ExecStatus, Limits

FAST = Limits(timeout_s=2.0, memory_mb=256)


def need(*layers: str) -> None:
    """Skip unless ``detect_isolation()`` says this host has every layer in ``layers``."""
    report = detect_isolation()
    missing = [name for name in layers if not report.layers.get(name)]
    if missing:
        pytest.skip(f"this host has no {', '.join(missing)} layer ({'; '.join(report.notes)})")


GOOD = "def f(x):\n    return x * 2\n"


def batch_around(attacks: Sequence[Job], pool: SandboxPool | None = None) -> list[RawRun]:
    """Run ``good, attack, good, attack, ..., good`` and check that every good job came back
    right and in place; return the attacks' runs."""
    jobs: list[Job] = [Job(code=GOOD, call="f(0)", limits=FAST)]
    for i, attack in enumerate(attacks, 1):
        jobs += [attack, Job(code=GOOD, call=f"f({i})", limits=FAST)]
    runs = run_jobs(jobs, pool=pool)
    assert len(runs) == len(jobs), "the batch lost results"
    goods = runs[0::2]
    assert [r.result.status for r in goods] == [ExecStatus.OK] * len(goods), goods
    assert [r.result.return_value for r in goods] == [str(2 * i) for i in range(len(goods))]
    return runs[1::2]
