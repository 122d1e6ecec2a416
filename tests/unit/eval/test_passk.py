"""Unbiased pass@k against exact binomials and the official edge rule."""

from __future__ import annotations

from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepcode.eval.passk import estimate_pass_at_k, exact_pass_at_k


@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_matches_exact_binomial(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    expected = 1.0 if n - c < k else 1.0 - comb(n - c, k) / comb(n, k)
    assert estimate_pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)
    assert exact_pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_1_is_fraction_correct() -> None:
    assert estimate_pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert estimate_pass_at_k(10, 0, 5) == 0.0
    assert estimate_pass_at_k(10, 10, 5) == 1.0


def test_official_short_list_rule() -> None:
    # n - c < k -> 1.0, even with no correct sample (the official function does this too)
    assert estimate_pass_at_k(1, 0, 5) == 1.0


@pytest.mark.parametrize("args", [(-1, 0, 1), (3, 4, 1), (3, 1, 0)])
def test_rejects_impossible_counts(args: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        estimate_pass_at_k(*args)
