"""Unbiased pass@k (Chen et al. 2021), as the CRUXEval and LiveCodeBench harnesses compute it."""

from __future__ import annotations

from math import comb

import numpy as np


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """``1 - C(n-c, k) / C(n, k)``, computed stably as ``1 - prod(1 - k / arange(n-c+1, n+1))``.

    Matches the official ``pass_at_k(n, c, k)`` exactly, including its ``n - c < k -> 1.0`` rule.
    """
    if n < 0 or c < 0 or c > n or k < 1:
        raise ValueError(f"pass@k needs 0 <= c <= n and k >= 1 (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def exact_pass_at_k(n: int, c: int, k: int) -> float:
    """The same quantity by exact binomials (for tests and small n)."""
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)
