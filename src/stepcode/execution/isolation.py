"""Which isolation layers this host gives the sandbox, detected once, never assumed.

A probe worker (``pool.start_worker_probe``) sets up everything it can and says what it got
(``_jail.py`` and ``_seccomp.py`` describe each layer). Layers, outermost first:

  * ``network_namespace``: no interfaces but a down loopback.
  * ``pid_namespace``: the worker is PID 1 of its own namespace; a run cannot list, signal or
    ptrace other runs, and nothing it starts outlives it.
  * ``ipc_namespace``: with zero SysV and message-queue limits: no IPC object outlives a run.
  * ``filesystem_view``: a fresh root of read-only binds: the interpreter, its standard library
    and site-packages, the shared libraries; no project checkout, home, dataset or host socket.
  * ``readonly_fs``: nothing in that view is writable but the run's own dirs.
  * ``private_tmp``: ``/tmp``, ``/dev/shm`` and the cwd are the run's own, sized by its limits
    and emptied after it.
  * ``unprivileged_uid``: each run drops to uid/gid 65534 (nobody), which also makes
    RLIMIT_NPROC=0 bind (no fork, no threads).
  * ``seccomp``: no ptrace or process_vm_*, no keyrings, no new namespaces (``_seccomp.py``).
  * ``rlimits``: address space, CPU, file size, open files, no core dumps (always on).

``IsolationReport.notes`` says, for each layer that is off, what that leaves open.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from stepcode.execution.pool import start_worker_probe, worker_argv

log = logging.getLogger(__name__)

LAYERS = ("network_namespace", "pid_namespace", "ipc_namespace", "filesystem_view",
          "readonly_fs", "private_tmp", "unprivileged_uid", "seccomp", "rlimits")  # fmt: skip
OPEN_WITHOUT = {
    "network_namespace": "programs can reach the network and the host's loopback services",
    "pid_namespace": "a run can list the host's processes and signal other runs of the same uid",
    "ipc_namespace": "SysV objects and message queues a run creates are visible to later runs",
    "filesystem_view": "programs can read every host file their uid may read",
    "readonly_fs": "programs can write wherever their uid may write",
    "private_tmp": "/tmp and /dev/shm are the host's, shared with other runs and processes",
    "unprivileged_uid": "runs keep the caller's uid, so RLIMIT_NPROC does not bind for root",
    "seccomp": "ptrace, process_vm_* and the kernel keyrings are reachable",
}


@dataclass(frozen=True, kw_only=True)
class IsolationReport:
    """What the sandbox really has on this host."""

    layers: dict[str, bool] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    worker_argv: tuple[str, ...] = ()
    exposed: tuple[str, ...] = ()
    """the host paths the filesystem view holds (read-only)"""

    @property
    def active(self) -> list[str]:
        return [name for name, on in self.layers.items() if on]


def probe_isolation(without: Sequence[str] = ()) -> IsolationReport:
    """Start one throwaway worker (skipping ``without``, as a host refusing them would)."""
    argv = worker_argv(without)
    hello = start_worker_probe(argv)
    got = hello.get("layers") if isinstance(hello.get("layers"), dict) else {}
    layers = {name: got.get(name) is True for name in LAYERS}
    notes = [str(n) for n in hello.get("notes", ()) if isinstance(n, str)]
    notes += [f"{name} off: {OPEN_WITHOUT[name]}" for name, on in layers.items()
              if not on and name in OPEN_WITHOUT]  # fmt: skip
    exposed = tuple(p for p in hello.get("exposed", ()) if isinstance(p, str))
    log.info("sandbox isolation: %s", layers)
    return IsolationReport(layers=layers, notes=tuple(notes), worker_argv=argv, exposed=exposed)


@functools.cache
def detect_isolation() -> IsolationReport:
    """Probe the host once per process."""
    return probe_isolation()
