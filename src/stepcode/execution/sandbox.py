"""Run untrusted Python and report what happened: ``run_program`` / ``run_job`` / ``run_batch``.

Every run is a fresh child process forked from a warm worker (``pool.py``, ``_child.py``) with:
a wall-clock deadline (soft: an exception inside the program at 90 %, so partial traces and
anchors come back; then a process-group SIGKILL), a CPU-time rlimit, an address-space cap, no
new processes (RLIMIT_NPROC=0, which binds because the child drops to uid ``nobody``), file-size
and open-file caps, capped stdout/stderr, a scrubbed environment, a private temp cwd (deleted
after), stdin at EOF, death with its worker (PR_SET_PDEATHSIG); and, where the host allows
(``isolation.detect_isolation`` reports each layer, nothing is assumed): no network (empty
network namespace), the whole filesystem read-only (mount namespace) except fresh tmpfs mounts
over /tmp, /var/tmp and /dev/shm, an unprivileged uid. Bad programs become statuses;
``SandboxError`` means the sandbox itself failed.

Return values: ``repr`` of ``eval(call)``, cut at 10,000 characters (``...<truncated>``), a
larger cap than ``Limits.max_repr_chars`` (which bounds trace/anchor values).

What is NOT isolated:
  * the program can read any file its uid may read (the host filesystem is visible, read-only;
    private ancestors of the interpreter such as a 0700 ``/root`` are hidden but for the
    interpreter's own directories);
  * the harness runs in the program's own process: the worker rejects results that lack the
    run's nonce (a program writing to the result pipe gets ``crash``), but a program that reads
    the interpreter's memory (frames, ``gc``) could still find the nonce or patch the harness;
    verification should not trust values the program can shape (``__eq__`` tricks included);
  * CPU caches and timing side channels; the kernel is shared (no seccomp filter, no container
    or VM): this is defence in depth, not a boundary against a determined human attacker;
  * without ``unshare`` (or as non-root) there is no network/mount namespace: the network is
    reachable and the filesystem is as writable as the caller's uid allows; without the uid drop
    RLIMIT_NPROC does not bind for root, so forks are not blocked (the group kill reaps them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stepcode.execution.pool import SandboxPool, get_default_pool
from stepcode.types import AnchorHit, ExecStatus, ExecutionResult, Limits


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
    filename: str = "<program>"
    watch: tuple[str, ...] = ()
    """tracer: extra expressions (``self.x``, ``d[k]``) evaluated in each traced state"""


@dataclass(frozen=True, kw_only=True)
class RawRun:
    """A run's result plus the tracer's raw payload (``None`` unless ``Job.trace``)."""

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
    return _to_raw(pool.request(_job_dict(job), job.limits.timeout_s))


def run_jobs(
    jobs: Sequence[Job], *, pool: SandboxPool | None = None, workers: int | None = None
) -> list[RawRun]:
    """Run many jobs over the pool's warm workers; results keep the order of ``jobs``."""
    if workers is not None and pool is None:
        with SandboxPool(workers) as own:
            return run_jobs(jobs, pool=own)
    pool = pool or get_default_pool()
    raw = pool.map_requests([_job_dict(j) for j in jobs], [j.limits.timeout_s for j in jobs])
    return [_to_raw(r) for r in raw]


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


def _job_dict(job: Job) -> dict[str, Any]:
    return {
        "code": job.code,
        "call": job.call,
        "limits": dataclasses.asdict(job.limits),
        "trace": job.trace,
        "anchors": job.anchors,
        "filename": job.filename,
        "watch": list(job.watch),
    }


def _to_raw(d: Mapping[str, Any]) -> RawRun:
    try:
        status = ExecStatus(d.get("status", "crash"))
    except ValueError:
        status = ExecStatus.CRASH
    hits = tuple(
        AnchorHit(anchor_id=int(a[0]), name=str(a[1]), value=str(a[2]))
        for a in d.get("anchors", ())
    )
    trace = d.get("trace")
    truncated = bool(d.get("anchors_truncated")) or bool(trace and trace.get("truncated"))
    result = ExecutionResult(
        status=status,
        stdout=d.get("stdout", ""),
        stderr=d.get("stderr", ""),
        error=d.get("error"),
        return_value=d.get("return_value"),
        duration_s=float(d.get("duration_s", 0.0)),
        anchors=hits,
        truncated=truncated,
    )
    return RawRun(result=result, trace_payload=trace)
