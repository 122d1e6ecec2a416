"""Fixtures for the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stepcode.execution import SandboxPool


@pytest.fixture(scope="module")
def pool1() -> Iterator[SandboxPool]:
    """One worker: consecutive jobs are consecutive runs in the same worker."""
    with SandboxPool(1) as pool:
        yield pool
