"""Batched verification gives the same answers as one job per program, and survives bad programs."""

from __future__ import annotations

from stepcode.data.batchrun import run_calls
from stepcode.data.synth import synthesize_candidates, verify_programs
from stepcode.types import Limits

LIMITS = Limits(timeout_s=1.0, memory_mb=256)


def test_batched_and_single_verification_agree() -> None:
    cands = synthesize_candidates(4, 24, seed=8)
    assert verify_programs(cands, LIMITS, batch=8) == verify_programs(cands, LIMITS, batch=0)


def test_slow_erroring_and_process_killing_programs_only_cost_their_own_result() -> None:
    items = [
        ("def f(x):\n    return x + 1\n", "f(1)"),
        ("def f(x):\n    while True:\n        x += 1\n", "f(1)"),
        ("def f(x):\n    return 1 // x\n", "f(0)"),
        ("def f(x):\n    return [x] * 3\n", "f(2)"),
    ]
    got = run_calls(items, LIMITS, batch=4, budget_s=0.2)
    assert got == [("ok", "2"), ("timeout", None), ("error", None), ("ok", "[2, 2, 2]")]
    killer = ("import os\n\ndef f(x):\n    os._exit(3)\n", "f(1)")
    got = run_calls([items[0], killer, items[3]], LIMITS, batch=3)
    assert got[0] == ("ok", "2") and got[2] == ("ok", "[2, 2, 2]") and got[1][0] != "ok"
