"""``detect_isolation`` never claims a layer the sandbox does not really have."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from stepcode.execution import detect_isolation, run_program
from stepcode.execution.isolation import detect_isolation as _detect
from stepcode.types import ExecStatus, Limits

FAST = Limits(timeout_s=2.0, memory_mb=256)


def _layer(name: str) -> bool:
    return detect_isolation().layers[name]


def test_report_names_every_layer_and_explains_what_is_off():
    report = detect_isolation()
    assert set(report.layers) == {
        "network_namespace",
        "readonly_fs",
        "private_tmp",
        "unprivileged_uid",
        "rlimits",
    }
    assert report.layers["rlimits"] is True
    assert report.worker_argv and "-I" in report.worker_argv
    for layer in ("network_namespace", "unprivileged_uid"):
        if not report.layers[layer]:
            assert report.notes, f"{layer} is off but no note says why"


def test_unprivileged_uid_layer_is_real():
    if not _layer("unprivileged_uid"):
        pytest.skip("uid drop not available on this host")
    r = run_program("import os", FAST, call="(os.getuid(), os.getgid(), os.getgroups())")
    assert r.return_value == "(65534, 65534, [])"


def test_network_namespace_layer_is_real():
    if not _layer("network_namespace"):
        pytest.skip("no network namespace on this host")
    r = run_program("import socket", FAST, call="[name for _, name in socket.if_nameindex()]")
    assert r.status is ExecStatus.OK and r.return_value == "['lo']"


def test_private_tmp_layer_is_real():
    if not _layer("private_tmp"):
        pytest.skip("no private /tmp on this host")
    name = f"/tmp/stepcode-private-{uuid.uuid4().hex}"
    Path(name).write_text("host")
    try:
        r = run_program("import os", FAST, call=f"os.path.exists({name!r})")
        assert r.return_value == "False"
    finally:
        os.unlink(name)


def test_readonly_fs_layer_is_real_even_for_world_writable_dirs():
    if not _layer("readonly_fs"):
        pytest.skip("no read-only filesystem view on this host")
    probe = Path.cwd() / f".stepcode-ro-probe-{uuid.uuid4().hex}"
    probe.mkdir(mode=0o777)
    probe.chmod(0o777)
    try:
        r = run_program(f"open({str(probe / 'x')!r}, 'w').write('x')", FAST)
        assert r.status is ExecStatus.ERROR and "Read-only file system" in r.error
        assert list(probe.iterdir()) == []
    finally:
        for leftover in probe.iterdir():
            leftover.unlink()
        probe.rmdir()


def test_without_unshare_the_report_says_so(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no `unshare` to find; the interpreter is absolute
    before = set(Path("/tmp").glob("stepcode-sbx-*"))
    report = _detect.__wrapped__()
    assert set(Path("/tmp").glob("stepcode-sbx-*")) == before, "the probe worker left its dir"
    assert report.layers["network_namespace"] is False
    assert report.layers["private_tmp"] is False
    assert report.layers["readonly_fs"] is False
    assert any("unshare" in note for note in report.notes)
    assert "unshare" not in " ".join(report.worker_argv)
