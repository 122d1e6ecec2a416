"""The statistics of ``benchmarks/paper_tables.py`` by hand: mean ± sample std, the exact sign test,
and the paired comparison of two rows over seeds and programs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import paper_tables as pt  # noqa: E402


def test_mean_and_sample_std():
    assert pt.mean_sd([0.1, 0.2, 0.3]) == pytest.approx((0.2, 0.1))
    assert pt.mean_sd([0.5]) == (0.5, 0.0)
    assert pt.fmt([0.1, 0.2, 0.3]) == "20.0 ± 10.0" and pt.fmt([]) == "-"


def test_exact_two_sided_sign_test():
    assert pt.sign_test(0, 0) == 1.0
    assert pt.sign_test(5, 0) == pytest.approx(2 / 32)  # 2 * P(X = 0) for n = 5
    assert pt.sign_test(1, 4) == pytest.approx(2 * 6 / 32)  # 2 * P(X <= 1) = 2 * (1 + 5) / 32
    assert pt.sign_test(3, 3) == 1.0  # capped at 1
    assert pt.sign_test(8, 2) == pytest.approx(2 * sum(math.comb(10, i) for i in range(3)) / 1024)


def _run(acc: float, outcomes: dict[str, float]) -> dict:
    return {"after": {"1": {"final_acc": acc}, "all": {"final_acc": acc}}, "outcomes": outcomes,
            "levels": {"p1": "1", "p2": "1", "p3": "2"}}  # fmt: skip


def test_paired_differences_over_seeds_and_programs():
    results = {
        "a": {0: _run(0.6, {"p1": 1, "p2": 1, "p3": 0}), 1: _run(0.5, {"p1": 1, "p2": 0, "p3": 1})},
        "b": {0: _run(0.4, {"p1": 0, "p2": 1, "p3": 0}), 1: _run(0.5, {"p1": 0, "p2": 0, "p3": 0})},
    }
    every = pt.paired(results, "a", "b", "all")
    # per seed: +20 and 0 points -> mean 10, sample std 14.14; programs: a-only p1 (s0), p1 + p3 (s1)
    assert every["diff_mean"] == pytest.approx(10.0) and every["diff_sd"] == pytest.approx(
        14.1421356
    )
    assert (every["a_only"], every["b_only"], every["seeds"]) == (3, 0, 2)
    assert every["p_sign"] == pytest.approx(2 / 8)
    level1 = pt.paired(results, "a", "b", "1")  # p3 is level 2: left out
    assert (level1["a_only"], level1["b_only"]) == (2, 0)
