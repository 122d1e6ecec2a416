"""Which isolation layers this host gives the sandbox, detected once, never assumed.

Layers, outermost first:
  * ``network_namespace``: workers run under ``unshare --net`` (no interfaces but a down loopback).
  * ``readonly_fs``: in that mount namespace every mount is remounted read-only (for root too),
    so the only writable places are the fresh tmpfs mounts below (the run's cwd lives there).
  * ``private_tmp``: workers run in a private mount namespace with fresh tmpfs over ``/tmp``,
    ``/var/tmp`` and ``/dev/shm``, so nothing a program writes there reaches the host.
  * ``unprivileged_uid``: each child drops to uid/gid 65534 (nobody) when the worker is root, so it
    cannot write the host filesystem, signal the worker or read other processes' environment.
  * ``rlimits``: address space, CPU, file size, open files, no core dumps, no new processes
    (always on; RLIMIT_NPROC binds only for a non-root uid, hence the uid drop).
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CHILD = Path(__file__).with_name("_child.py")


@dataclass(frozen=True, kw_only=True)
class IsolationReport:
    """What the sandbox really has on this host."""

    layers: dict[str, bool] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    worker_argv: tuple[str, ...] = ()

    @property
    def active(self) -> list[str]:
        return [name for name, on in self.layers.items() if on]


def _unshare_prefix() -> list[str] | None:
    exe = shutil.which("unshare")
    if exe is None:
        return None
    argv = [exe, "--net", "--mount", "--propagation", "private", "--"]
    try:
        ok = subprocess.run([*argv, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return argv if ok else None


@functools.cache
def detect_isolation() -> IsolationReport:
    """Probe the host once per process (starts one throwaway worker)."""
    from stepcode.execution.pool import start_worker_probe

    prefix = _unshare_prefix()
    notes: list[str] = []
    if prefix is None:
        notes.append("unshare unavailable or not permitted: no network/mount namespace")
        argv = (sys.executable, "-I", "-S", str(CHILD))
    else:
        argv = (*prefix, sys.executable, "-I", "-S", str(CHILD), "--private-tmp")
    hello = start_worker_probe(argv)
    for hidden in hello.get("hidden_dirs", ()):
        notes.append(f"{hidden} is hidden from programs except the interpreter's own files")
    if not hello.get("drop_uid"):
        notes.append("not root (or setuid refused): children keep the caller's uid")
    layers = {
        "network_namespace": prefix is not None,
        "readonly_fs": bool(hello.get("readonly_fs")),
        "private_tmp": bool(hello.get("private_tmp")),
        "unprivileged_uid": bool(hello.get("drop_uid")),
        "rlimits": True,
    }
    log.info("sandbox isolation: %s", layers)
    return IsolationReport(layers=layers, notes=tuple(notes), worker_argv=tuple(argv))
