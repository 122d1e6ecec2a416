"""Faithful re-implementations of the official scorers (CRUXEval HEAD, LiveCodeBench), for agreement tests.

Each check runs in its own ``python`` subprocess with a 3 s limit, independent of stepcode's sandbox.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def check_correctness(code: str, timeout: float = 3.0) -> bool:
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def pass_at_k(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def cruxeval_evaluate_score(gs: list[str], c: str, i: str, o: str, mode: str) -> list[bool]:
    results = []
    for g in gs:
        if mode == "input" and "f(" not in g:  # noqa: SIM114 (kept as the official code)
            pass
        elif mode == "output" and f"f({i})" in g:
            pass
        else:
            results.append(check_correctness(f"{c}\nassert {o} == {g}"))
    if True not in results:
        results = [False] * len(gs)
    return results


def lcb_evaluate_score(
    gs: list[str], c: str, i: str, o: str, base_imports: str, timeout: float = 3.0
) -> list[bool]:
    results = []
    for g in gs:
        if i in g:
            pass
        else:
            results.append(check_correctness(f"{base_imports}\n{c}\nassert {o} == {g}", timeout))
    if len(results) == 0:
        results = [False] * len(gs)
    return results
