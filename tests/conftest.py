"""Shared fixtures. ``../shared`` (benchmarks, specs) is optional: tests that need it skip."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def cruxeval_path(shared_dir: Path) -> Path:
    p = shared_dir / "benchmarks" / "cruxeval" / "cruxeval.jsonl"
    if not p.is_file():
        pytest.skip("CRUXEval data not present")
    return p


@pytest.fixture(scope="session")
def reval_dir(shared_dir: Path) -> Path:
    p = shared_dir / "benchmarks" / "reval"
    if not (p / "DREval_data.jsonl").is_file():
        pytest.skip("REval data not present")
    return p
