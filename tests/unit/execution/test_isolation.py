"""``detect_isolation`` never claims a layer the sandbox does not really have."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from stepcode.execution import Job, SandboxPool, detect_isolation, run_jobs, run_program
from stepcode.execution.isolation import LAYERS, OPEN_WITHOUT, probe_isolation
from stepcode.types import ExecStatus, Limits

FAST = Limits(timeout_s=2.0, memory_mb=256)


def _layer(name: str) -> bool:
    return detect_isolation().layers[name]


def test_report_names_every_layer_and_explains_what_is_off():
    report = detect_isolation()
    assert set(report.layers) == set(LAYERS)
    assert report.layers["rlimits"] is True
    assert report.worker_argv and "-I" in report.worker_argv
    for layer, on in report.layers.items():
        if not on and layer in OPEN_WITHOUT:
            assert any(layer in note for note in report.notes), f"{layer} is off, no note says why"


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


def test_host_dirs_are_absent_from_the_view_even_world_writable_ones():
    if not _layer("filesystem_view"):
        pytest.skip("no filesystem view on this host")
    probe = Path.cwd() / f".stepcode-ro-probe-{uuid.uuid4().hex}"
    probe.mkdir(mode=0o777)
    probe.chmod(0o777)
    try:
        r = run_program(f"open({str(probe / 'x')!r}, 'w').write('x')", FAST)
        assert r.status is ExecStatus.ERROR and "FileNotFoundError" in r.error
        assert list(probe.iterdir()) == []
    finally:
        for leftover in probe.iterdir():
            leftover.unlink()
        probe.rmdir()


@pytest.mark.parametrize(
    ("without", "off"),
    [
        (("net",), ["network_namespace"]),
        (("pid",), ["pid_namespace"]),
        (("ipc",), ["ipc_namespace"]),
        (("mount",), ["filesystem_view", "readonly_fs", "private_tmp"]),
        (("uid",), ["unprivileged_uid"]),
        (("seccomp",), ["seccomp"]),
    ],
)
def test_a_host_without_a_layer_is_reported_as_such(without, off):
    if not detect_isolation().layers["pid_namespace"]:
        pytest.skip("this host gives no namespaces at all")
    before = set(Path("/tmp").glob("stepcode-sbx-*"))
    report = probe_isolation(without)
    assert set(Path("/tmp").glob("stepcode-sbx-*")) == before, "the probe worker left its dir"
    assert [name for name, on in report.layers.items() if not on] == off
    for name in off:
        assert any(note.startswith(name) for note in report.notes), report.notes


def test_what_a_missing_layer_leaves_open_is_really_open():
    if not detect_isolation().layers["pid_namespace"]:
        pytest.skip("this host gives no namespaces at all")
    with SandboxPool(1, without=("net", "pid", "mount")) as pool:
        (run,) = run_jobs([Job(code="import os, socket", limits=FAST, call=(
            "(len([p for p in os.listdir('/proc') if p.isdigit()]) > 1,"
            " len(socket.if_nameindex()) > 1, os.path.exists(os.getcwd() + '/../..'))"
        ))], pool=pool)  # fmt: skip
    assert run.result.return_value == "(True, True, True)", run.result
