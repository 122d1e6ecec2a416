"""Run untrusted Python and report what happened: ``run_program`` / ``run_job`` / ``run_batch``.

Threat model
------------
* **Model-controlled text** (predicted inputs and outputs, REval answers, trace lines, any
  completion) is hostile. It never runs on the trusted side, influences a verdict only through
  its value, and never crashes or stalls a scorer (``rewards`` parses it; nothing here runs it).
* **Programs** (dataset code, model-written code) are hostile. They may fail, loop, allocate,
  fork, signal, read and write whatever the sandbox lets them; they must not escape, leave
  anything behind that a later run or the host sees, harm another run, or make the trusted side
  raise. One bad job is one failed result (``crash`` with a reason), never a lost batch: a batch
  of N jobs returns N results in order, whatever any of them did.
* What a program can still do to its **own** result from inside its own process (the harness
  shares it) is a documented limit, below. A verdict on model-written code must not depend on
  it: expected values stay outside the sandbox and are compared on the trusted side.

How it holds
------------
Every run is a fresh child forked from a warm worker (``pool.py``, ``_worker.py``, ``_child.py``)
with: a wall-clock deadline (soft: an exception inside the program at 90 %, so partial traces
and anchors come back; then a process-group SIGKILL), a CPU-time rlimit, an address-space cap,
no new processes or threads (uid ``nobody`` + RLIMIT_NPROC=0), file-size and open-file caps,
capped stdout/stderr, a scrubbed environment, stdin at EOF, death with its worker. Where the
host allows (``detect_isolation`` reports each layer; ``stepcode doctor`` prints them), each
worker has its own network, PID, IPC, UTS and mount namespaces, a filesystem view holding only
the interpreter, its standard library and site-packages and the shared libraries, read-only
(``_jail.py``), a per-run private ``/tmp``, ``/dev/shm`` and cwd sized by ``Limits.tmpfs_mb``
and emptied after each run, and a seccomp filter (no ptrace or process_vm_*, no kernel
keyrings, no new namespaces: ``_seccomp.py``). Bad programs become statuses; ``SandboxError``
means the sandbox itself failed.

Everything read back from a run is checked against one schema (``_wire.py``, shared by worker
and parent): a frame that is too big, not UTF-8, not JSON, too deep, of the wrong shape or
without the run's nonce becomes that run's ``crash``. Tracer and anchor tampering the harness
can see is reported in ``ExecutionResult.integrity`` (``_tracehook.py``, ``_child.py``).

Return values: ``repr`` of ``eval(call)``, cut at 10,000 characters (``...<truncated>``), a
larger cap than ``Limits.max_repr_chars`` (which bounds trace/anchor values).

Limits (what is NOT guaranteed)
-------------------------------
* In its own process a program can change its own result: it can read the run's nonce from
  memory (frames, ``gc``, ``ctypes``) and write any well-formed result frame, patch the harness
  or the tracer's state, or rebind the anchor hook to nothing and back (hiding its own hits).
  The schema bounds what such a frame can hold and the integrity checks catch the usual ways
  around the tracer, but neither makes a program's account of itself trustworthy: verdicts
  compare values on the trusted side, and ``integrity`` is evidence of tampering, never proof
  of its absence.
* Where a layer is off (not root, an old kernel, no ``pivot_root``), ``IsolationReport.notes``
  says what that leaves open: without namespaces the network, the host's processes and files
  (read-only where the uid cannot write) are reachable; without the uid drop RLIMIT_NPROC does
  not bind for root, so forks are not blocked (the group kill reaps them); without seccomp the
  kernel keyrings of uid ``nobody`` persist between runs.
* A run's memory is bounded by ``memory_mb`` (address space) plus ``tmpfs_mb`` (its files); a
  SIGKILL from the kernel's OOM killer is reported as ``memory`` when the kernel's OOM count
  rose during the run (the worker's memory cgroup, else the whole host's count).
* CPU caches and timing side channels; the kernel is shared (no VM): this is defence in depth,
  not a boundary against a determined human attacker with a kernel exploit.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stepcode.execution import _wire
from stepcode.execution.pool import SandboxPool, get_default_pool
from stepcode.types import AnchorHit, ExecStatus, ExecutionResult, Limits

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Job:
    """One program to run: ``exec(code)``, then ``eval(call)`` if given."""

    code: str
    call: str | None = None
    limits: Limits = Limits()
    trace: bool = False
    """record a line trace (``_tracehook.Recorder``) of frames compiled from ``filename``"""
    anchors: bool = False
    """inject ``__stepcode_anchor__`` and collect anchor hits"""
    anchor_lines: tuple[int, ...] | None = None
    """line of each anchor id in ``code`` (``Instrumented.job`` fills it): a hit from any other
    line is forged; ``None`` (a hand-written job) checks only that the caller is ``code``"""
    filename: str = "<program>"
    watch: tuple[str, ...] = ()
    """tracer: extra expressions (``self.x``, ``d[k]``) evaluated in each traced state"""


@dataclass(frozen=True, kw_only=True)
class RawRun:
    """A run's result plus the tracer's raw payload (``None`` unless ``Job.trace``); the payload
    is schema-checked (``_wire.check_trace``): states are 7-lists of the documented types."""

    result: ExecutionResult
    trace_payload: Mapping[str, Any] | None = None


def run_program(
    code: str, limits: Limits = Limits(), *, call: str | None = None
) -> ExecutionResult:
    """Run ``code`` (then ``call``) in a fresh sandboxed child; ``return_value`` is the bounded
    ``repr`` (10,000 chars) of ``call``'s value. Never raises for bad code: statuses."""
    return run_job(Job(code=code, call=call, limits=limits)).result


def run_job(job: Job, pool: SandboxPool | None = None) -> RawRun:
    """Run one job (anchors, trace) on ``pool`` (default: the shared pool)."""
    pool = pool or get_default_pool()
    return _to_raw(pool.request(_job_frame(job), job.limits.timeout_s), job)


def run_jobs(
    jobs: Sequence[Job], *, pool: SandboxPool | None = None, workers: int | None = None
) -> list[RawRun]:
    """Run many jobs over the pool's warm workers; N jobs give N results, in the order of ``jobs``."""
    if workers is not None and pool is None:
        with SandboxPool(workers) as own:
            return run_jobs(jobs, pool=own)
    pool = pool or get_default_pool()
    replies = pool.map_requests([_job_frame(j) for j in jobs], [j.limits.timeout_s for j in jobs])
    return [_to_raw(reply, job) for reply, job in zip(replies, jobs, strict=True)]


def run_batch(
    jobs: Sequence[Job | str],
    limits: Limits | None = None,
    *,
    pool: SandboxPool | None = None,
    workers: int | None = None,
) -> list[ExecutionResult]:
    """Like ``run_jobs`` for plain programs (strings) or jobs; ``limits`` overrides each job's."""
    norm = []
    for j in jobs:
        job = Job(code=j) if isinstance(j, str) else j
        norm.append(dataclasses.replace(job, limits=limits) if limits is not None else job)
    return [r.result for r in run_jobs(norm, pool=pool, workers=workers)]


def _job_frame(job: Job) -> dict[str, Any]:
    """The job as the wire schema has it (``_wire.JOB_KEYS``; the worker checks it again)."""
    return {
        "code": job.code,
        "call": job.call,
        "limits": _limits_frame(job.limits),
        "trace": job.trace,
        "anchors": job.anchors,
        "anchor_lines": None if job.anchor_lines is None else list(job.anchor_lines),
        "filename": job.filename,
        "watch": list(job.watch),
    }


def tamper_reason(result: ExecutionResult) -> str | None:
    """``tampered:<integrity>`` when the run's trace or anchors are not ground truth, else None:
    the one drop reason ``tasks`` and ``data`` record for such programs."""
    return None if result.integrity == "ok" else f"tampered:{result.integrity}"


@functools.lru_cache(maxsize=256)
def _limits_frame(limits: Limits) -> dict[str, Any]:
    return dataclasses.asdict(limits)  # read-only by every caller


def _to_raw(reply: object, job: Job) -> RawRun:
    """The worker's reply, checked against the schema; anything else is this run's crash."""
    try:
        d = _wire.check_reply(reply, _limits_frame(job.limits))
    except _wire.WireError as e:
        log.warning("sandbox reply rejected: %s", e)
        return RawRun(result=ExecutionResult(status=ExecStatus.CRASH, error=f"bad reply: {e}"))
    trace = d["trace"]
    result = ExecutionResult(
        status=ExecStatus(d["status"]),
        stdout=d["stdout"],
        stderr=d["stderr"],
        error=d["error"],
        return_value=d["return_value"],
        duration_s=d["duration_s"],
        anchors=tuple(AnchorHit(anchor_id=a, name=n, value=v) for a, n, v in d["anchors"]),
        truncated=d["anchors_truncated"] or bool(trace and trace["truncated"]),
        integrity=d["integrity"],
    )
    return RawRun(result=result, trace_payload=trace)
