"""The warm pool: order kept, dead workers replaced, many jobs."""

from __future__ import annotations

from stepcode.execution import Job, SandboxPool, run_batch, run_jobs
from stepcode.types import ExecStatus, Limits


def test_batch_keeps_order_and_results():
    codes = [f"assert {i} * 2 == {i * 2 + (i % 7 == 0)}" for i in range(200)]
    results = run_batch(codes)
    assert [r.status is ExecStatus.OK for r in results] == [i % 7 != 0 for i in range(200)]


def test_jobs_with_calls_return_values_in_order():
    jobs = [Job(code="def f(x):\n    return x * x", call=f"f({i})") for i in range(50)]
    assert [r.result.return_value for r in run_jobs(jobs)] == [str(i * i) for i in range(50)]


def test_a_pool_survives_hostile_jobs_between_good_ones():
    hostile = [
        "import os\nos._exit(1)",
        "import os, signal\nos.killpg(0, signal.SIGKILL)",
        "while True: pass",
        "x = [0] * 10**10",
    ]
    jobs: list[Job | str] = []
    for h in hostile:
        jobs += [Job(code=h, limits=Limits(timeout_s=0.5)), "print('ok')"]
    with SandboxPool(2) as pool:
        results = run_batch(jobs, pool=pool)
    assert [r.stdout for r in results[1::2]] == ["ok\n"] * len(hostile)
    assert all(r.status is not ExecStatus.OK for r in results[0::2])


def test_limits_override_applies_to_every_job():
    results = run_batch(["import time\ntime.sleep(5)"] * 2, Limits(timeout_s=0.3))
    assert all(r.status is ExecStatus.TIMEOUT for r in results)
