"""``stepcode doctor``: versions, hardware and the sandbox layers that are really active."""

from __future__ import annotations

import platform

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.execution import detect_isolation


@pytest.mark.slow  # imports torch, transformers, ... to read their versions (~20 s on 2 busy cores)
def test_doctor_prints_versions_hardware_and_every_isolation_layer():
    res = CliRunner().invoke(get_app(), ["doctor"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert platform.python_version() in out
    for word in ("stepcode", "torch", "transformers", "cpu cores", "gpu"):
        assert word in out
    for layer, on in detect_isolation().layers.items():
        line = next(ln for ln in out.splitlines() if f"sandbox: {layer}" in ln)
        assert ("active" in line) is on, line
