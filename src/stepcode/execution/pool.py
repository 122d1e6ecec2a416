"""Warm sandbox workers: each forks a fresh, limited child per run (``_worker.py``).

A worker is a long-lived ``python -I -S _worker.py`` that sets up its own isolation
(``_jail.py``); forking it costs far less than starting an interpreter, which is what makes
thousands of isolated checks per second possible. A worker that dies, stops answering or answers
with bytes that are not a frame is killed and replaced; its job comes back as a ``crash``
result. ``request`` never raises for anything a job did, so a batch of N jobs always returns N
results, in order; only a pool that cannot keep any worker alive raises ``SandboxError``.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from stepcode.errors import SandboxError
from stepcode.execution import _wire

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("_worker.py")
# a run may not start threads (RLIMIT_NPROC=0): numerical libraries must not try
_ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
_GRACE_S = 5.0  # beyond a job's own wall limit before the worker itself is declared hung
_EXIT_WAIT_S = 1.0  # for a worker to exit on EOF before it is killed


class WorkerDied(Exception):
    """The worker process exited or hung; it must be replaced."""


def worker_argv(without: Sequence[str] = ()) -> tuple[str, ...]:
    """The worker's command line; ``without`` (tests) skips isolation layers (``_worker.py``)."""
    argv = (sys.executable, "-I", "-S", str(WORKER))
    return (*argv, "--without", ",".join(without)) if without else argv


class _Worker:
    def __init__(self, argv: Sequence[str]) -> None:
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            **_ONE_THREAD,
        }
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except OSError as e:
            raise SandboxError(f"cannot start sandbox worker: {e}") from e
        try:
            hello = self._read(30.0)
        except WorkerDied as e:
            self.close()
            raise SandboxError(f"sandbox worker failed to start: {e}") from None
        if type(hello) is not dict or hello.get("ready") is not True:
            self.close()
            why = hello.get("error") if type(hello) is dict else None
            raise SandboxError(f"sandbox worker failed to start: {str(why or hello)[:500]}")
        self.hello: dict[str, Any] = hello

    def request(self, job: dict[str, Any], timeout_s: float) -> object:
        """Send one job frame; the reply's JSON value (unchecked: ``sandbox`` checks it)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(_wire.encode(job))
            self.proc.stdin.flush()
        except (OSError, ValueError) as e:
            raise WorkerDied(f"write failed: {e}") from None
        return self._read(timeout_s)

    def _read(self, timeout_s: float) -> object:
        deadline = time.monotonic() + timeout_s
        try:
            size = _wire.frame_length(self._read_exact(_wire.HEADER_BYTES, deadline))
            return _wire.decode(self._read_exact(size, deadline))
        except _wire.WireError as e:  # a worker that speaks garbage is as good as dead
            raise WorkerDied(f"bad frame: {e}") from None

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WorkerDied("no answer in time")
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise WorkerDied(f"exited with {self.proc.poll()}")
            buf.extend(chunk)
        return bytes(buf)

    def close(self) -> None:
        """EOF first (an idle worker removes its temp dir and exits), then a group SIGKILL."""
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=_EXIT_WAIT_S)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, 9)
        except OSError:
            pass
        try:
            self.proc.kill()
        except OSError:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("sandbox worker %d did not exit", self.proc.pid)


def start_worker_probe(argv: Sequence[str]) -> dict[str, Any]:
    """Start one worker, return its hello (what it could set up), and stop it."""
    worker = _Worker(argv)
    try:
        return dict(worker.hello)
    finally:
        worker.close()


class SandboxPool:
    """A fixed set of warm workers; ``request`` and ``map_requests`` are thread-safe."""

    def __init__(self, workers: int | None = None, *, without: Sequence[str] = ()) -> None:
        self.size = max(1, workers or os.cpu_count() or 1)
        self.argv = worker_argv(without)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self._closed = False
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="sandbox")
        for _ in range(self.size):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker(self.argv)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.close()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        if not self._closed:
            try:
                self._add_worker()
            except SandboxError as e:  # the pool shrinks; request() fails loudly when empty
                log.error("could not replace a sandbox worker: %s", e)

    def request(self, job: dict[str, Any], timeout_s: float) -> object:
        """Send one job frame to an idle worker; a dead or hung worker yields a crash reply."""
        if self._closed:
            raise SandboxError("sandbox pool is closed")
        while True:
            try:
                worker = self._idle.get(timeout=1.0)
                break
            except queue.Empty:
                with self._lock:
                    if not self._all:
                        raise SandboxError("sandbox pool has no live workers") from None
        try:
            reply = worker.request(job, timeout_s + _GRACE_S)
        except WorkerDied as e:
            log.warning("sandbox worker died (%s); replacing it", e)
            self._replace(worker)
            return _died(f"sandbox worker died: {e}")
        except Exception as e:  # noqa: BLE001 - one job never costs the batch
            log.exception("sandbox request failed; replacing the worker")
            self._replace(worker)
            return _died(f"sandbox request failed: {type(e).__name__}: {e}")
        self._idle.put(worker)
        return reply

    def map_requests(self, jobs: Sequence[dict[str, Any]], timeouts: Sequence[float]) -> list:
        return list(self._executor.map(self.request, jobs, timeouts))

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _died(error: str) -> dict[str, Any]:
    return {**_wire.failure("crash", error), "stdout": "", "stderr": "", "duration_s": 0.0}


_default: SandboxPool | None = None
_default_lock = threading.Lock()


def get_default_pool() -> SandboxPool:
    """The process-wide pool, started on first use and closed at exit."""
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = SandboxPool()
            atexit.register(_default.close)
        return _default
