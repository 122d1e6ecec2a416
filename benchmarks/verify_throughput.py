"""Verifier throughput: the 800 CRUXEval gold answers (output and input direction) verified in one
batch through the warm pool (``verify_outputs`` / ``verify_inputs``) vs the same checks one at a
time (``run_checks`` on one check: one isolated run in flight), measured in the same run.

    python benchmarks/verify_throughput.py [--data PATH] [--serial-limit N]

A last row times ``score_batch`` (outcome checks + step scoring) on the 800 output-aligned gold
completions. The serial baseline runs ``--serial-limit`` checks (default 100) and is scaled to 800 so the whole
script takes seconds; the table says which numbers are scaled.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from stepcode.rewards import score_batch, verify_inputs, verify_outputs
from stepcode.rewards.verify import input_check_job, output_check_job, run_checks
from stepcode.tasks import make_tasks_batch, sft_target
from stepcode.types import Program, TaskKind

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/benchmarks/cruxeval/cruxeval.jsonl"


def time_batch(rows: list[dict], direction: str) -> tuple[float, int]:
    """Seconds for one pooled batch over all rows, and how many verified correct."""
    t = time.perf_counter()
    if direction == "output":
        verdicts = verify_outputs([(r["code"], r["input"], r["output"]) for r in rows])
    else:
        verdicts = verify_inputs([(r["code"], r["output"], r["input"]) for r in rows])
    return time.perf_counter() - t, sum(v.correct for v in verdicts)


def time_serial(rows: list[dict], direction: str) -> tuple[float, int]:
    """Seconds for the same checks one at a time, in sequence (one isolated run in flight)."""
    if direction == "output":
        checks = [output_check_job(r["code"], r["input"], r["output"]) for r in rows]
    else:
        checks = [input_check_job(r["code"], r["output"], r["input"]) for r in rows]
    t = time.perf_counter()
    ok = sum(run_checks([c])[0].correct for c in checks)
    return time.perf_counter() - t, ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--serial-limit", type=int, default=100, help="checks for the serial baseline")
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (CRUXEval data lives in ../shared/benchmarks)")
        return
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    n = len(rows)
    verify_outputs([(r["code"], r["input"], r["output"]) for r in rows[:20]])  # warm the pool

    print(f"{'direction':<10}{'method':<34}{'checks':>8}{'correct':>9}{'seconds':>10}{'/s':>9}")
    for direction in ("output", "input"):
        b_s, b_ok = time_batch(rows, direction)
        k = min(args.serial_limit, n)
        s_s, s_ok = time_serial(rows[:k], direction)
        s_scaled = s_s * n / k
        print(
            f"{direction:<10}{'batch (pool, verify_*s)':<34}{n:>8}{b_ok:>9}{b_s:>10.2f}{n / b_s:>9.1f}"
        )
        label = f"serial, one check (x{n / k:.0f} scaled)"
        print(f"{direction:<10}{label:<34}{k:>8}{s_ok:>9}{s_scaled:>10.2f}{k / s_s:>9.1f}")
        print(
            f"{direction:<10}{'speed-up batch / serial':<34}{'':>8}{'':>9}{s_scaled / b_s:>9.1f}x"
        )

    time_scoring(rows)


def time_scoring(rows: list[dict]) -> None:
    """``score_batch`` over the output-aligned gold completions (2 pooled batches inside)."""
    progs = [Program(program_id=r["id"], code=r["code"], input_args=r["input"], output=r["output"])
             for r in rows]  # fmt: skip
    tasks = [t for ts in make_tasks_batch(progs, [TaskKind.OUTPUT_ALIGNED]) for t in ts]
    gold = [sft_target(t) for t in tasks]
    t = time.perf_counter()
    rewards = score_batch(tasks, gold)
    dt = time.perf_counter() - t
    ok = sum(r.scalar == 1.0 for r in rewards)
    label = "score_batch (aligned gold)"
    print(f"{'aligned':<10}{label:<34}{len(tasks):>8}{ok:>9}{dt:>10.2f}{len(tasks) / dt:>9.1f}")


if __name__ == "__main__":
    main()
