"""The warm pool: order kept, dead workers replaced, many jobs."""

from __future__ import annotations

import os
import signal
import threading
import time

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


def _children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"  # noqa: SIM115
    except OSError:
        return False


def test_a_worker_killed_mid_job_is_replaced_its_job_crashes_and_its_child_dies():
    stubborn = (  # swallows the soft timeout and keeps sleeping
        "import time\nwhile True:\n    try:\n        time.sleep(100)\n    except BaseException:\n        pass"
    )
    with SandboxPool(1) as pool:
        victim = pool._all[0].proc.pid
        seen: list[int] = []

        def kill_worker_soon() -> None:
            deadline = time.monotonic() + 5
            while not seen and time.monotonic() < deadline:
                seen.extend(_children_of(victim))
                time.sleep(0.05)
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_worker_soon)
        killer.start()
        jobs = [Job(code=stubborn, limits=Limits(timeout_s=4)), "print('after')"]
        results = run_batch(jobs, pool=pool)
        killer.join()
        assert results[0].status is ExecStatus.CRASH and "worker died" in results[0].error
        assert results[1].stdout == "after\n"
        assert len(pool._all) == 1 and pool._all[0].proc.pid != victim
    assert seen, "the program's child process was never seen"
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in seen), "the orphaned program outlived its worker"


def test_many_jobs_over_a_small_pool():
    jobs = [Job(code=f"x = {i}", call="x * 3") for i in range(400)]
    with SandboxPool(2) as pool:
        out = run_jobs(jobs, pool=pool)
    assert [r.result.return_value for r in out] == [str(i * 3) for i in range(400)]
