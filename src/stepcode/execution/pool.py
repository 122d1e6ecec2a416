"""Warm sandbox workers: each forks a fresh, limited child per run (see ``_child.py``).

A worker is a long-lived ``python -I _child.py`` inside the OS isolation layer; forking it costs far
less than starting an interpreter, which is what makes thousands of isolated checks per second
possible. A worker that dies or stops answering is killed and replaced; its job comes back as a
``crash`` result, and results always keep the order of the jobs.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import select
import struct
import subprocess
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stepcode.errors import SandboxError

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
_GRACE_S = 5.0  # beyond a job's own wall limit before the worker itself is declared hung
_EXIT_WAIT_S = 1.0  # for a worker to exit on EOF before it is killed


class WorkerDied(Exception):
    """The worker process exited or hung; it must be replaced."""


class _Worker:
    def __init__(self, argv: Sequence[str]) -> None:
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
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
            self.hello = self._read(30.0)
        except WorkerDied as e:
            self.close()
            raise SandboxError(f"sandbox worker failed to start: {e}") from None

    def request(self, job: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        data = json.dumps(job).encode()
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(_HEADER.pack(len(data)) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise WorkerDied(f"write failed: {e}") from None
        return self._read(timeout_s)

    def _read(self, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        head = self._read_exact(_HEADER.size, deadline)
        return json.loads(self._read_exact(_HEADER.unpack(head)[0], deadline))

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
    """A fixed set of warm workers; ``run`` and ``map`` are thread-safe."""

    def __init__(self, workers: int | None = None) -> None:
        from stepcode.execution.isolation import detect_isolation

        self.size = max(1, workers or os.cpu_count() or 1)
        self.argv = detect_isolation().worker_argv
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

    def request(self, job: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one job dict to an idle worker; a dead or hung worker yields a crash result."""
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
            result = worker.request(job, timeout_s + _GRACE_S)
        except WorkerDied as e:
            log.warning("sandbox worker died (%s); replacing it", e)
            self._replace(worker)
            return {"status": "crash", "error": f"sandbox worker died: {e}"}
        self._idle.put(worker)
        return result

    def map_requests(
        self, jobs: Sequence[dict[str, Any]], timeouts: Sequence[float]
    ) -> list[dict[str, Any]]:
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
