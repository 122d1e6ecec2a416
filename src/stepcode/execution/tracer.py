"""Line tracer: ``trace_program(code, call, limits) -> Trace`` plus REval-style queries on it.

The trace is recorded in the sandbox child by ``_tracehook.Recorder`` with REval's rules: one
merged state per run of events on the same line, all frames of the program's own code, locals as
bounded reprs taken at ``line`` events (before the line runs). With a ``call``, only the call's
states are kept (REval defines the program before it starts tracing), unless the module itself
raised; without one, the module's own lines are the trace. Queries (pure functions of a
``Trace``), with line numbers of ``code``:

* ``coverage(trace)``: the executed lines.
* ``next_lines(trace)``: line -> set of the lines of the state right after each occurrence; ``-1``
  when the occurrence was the last state. ``next_lines_of(trace, line)`` gives ``{-1}`` for a line
  that never ran (REval ``get_next_line``).
* ``states_after(trace, line)``: the locals of the state after each occurrence of ``line``
  (REval ``get_states_after``: "after line L" = the next recorded state, which may belong to
  another frame or carry no locals; for the last state, the state itself).
* ``value_after(trace, line, var)``: REval ``get_local``: ``var`` in each of those states where it
  exists, or ``None`` (REval's ``Nil``) when the line never ran or ``var`` is never there.
* ``occurrences(trace, line)``: indices of the states of ``line`` (the K-th execution is
  ``occurrences[K-1]``); ``state_after_occurrence(trace, line, k)`` the state after the K-th.

Not done here: evaluating attribute / subscript questions on the stored reprs; pass them as
``watch`` expressions so the recorder evaluates them in the frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stepcode.execution.sandbox import Job, RawRun, run_job, run_jobs
from stepcode.types import ExecStatus, Limits, Trace, TraceEvent, VarState

PROGRAM_FILENAME = "<program>"


def trace_program(
    code: str,
    call: str | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen
    *,
    watch: Sequence[str] = (),
) -> Trace:
    """Run ``code`` then ``call`` in the sandbox under the line recorder. Never raises for bad code."""
    job = _job(code, call, limits, watch)
    return _to_trace(code, call, run_job(job))


def trace_batch(
    items: Sequence[tuple[str, str | None]],
    limits: Limits = Limits(),  # noqa: B008 - frozen
    *,
    watch: Sequence[str] = (),
) -> list[Trace]:
    """Trace many ``(code, call)`` pairs over the warm pool; order is kept."""
    raws = run_jobs([_job(code, call, limits, watch) for code, call in items])
    return [_to_trace(code, call, raw) for (code, call), raw in zip(items, raws, strict=True)]


def _job(code: str, call: str | None, limits: Limits, watch: Sequence[str]) -> Job:
    return Job(
        code=code,
        call=call,
        limits=limits,
        trace=True,
        filename=PROGRAM_FILENAME,
        watch=tuple(watch),
    )


def _to_trace(code: str, call: str | None, raw: RawRun) -> Trace:
    payload = raw.trace_payload or {}
    states = payload.get("states") or ()
    module_end = payload.get("module_end")
    if call is not None and module_end is not None:
        states = states[int(module_end) :]
    events = tuple(
        TraceEvent(
            line=int(s[0]),
            func=str(s[1]),
            frame_id=int(s[2]),
            event=str(s[3]),
            locals={k: VarState(repr=v[0], type=v[1]) for k, v in s[4].items()},
            return_value=s[5] if len(s) > 5 else None,
            exception=s[6] if len(s) > 6 else None,
        )
        for s in states
    )
    # a run killed before the payload came back has lost its trace, and a run cut by its
    # deadline recorded only a prefix of what it would have done: say so
    truncated = (
        bool(payload.get("truncated"))
        or raw.trace_payload is None
        or raw.result.status is ExecStatus.TIMEOUT
    )
    return Trace(code=code, call=call, result=raw.result, events=events, truncated=truncated)


def coverage(trace: Trace) -> frozenset[int]:
    """The lines that ran (REval ``get_coverage`` is ``line in coverage(trace)``)."""
    return frozenset(e.line for e in trace.events)


def occurrences(trace: Trace, line: int) -> list[int]:
    """Indices into ``trace.events`` of the states of ``line``, in execution order."""
    return [i for i, e in enumerate(trace.events) if e.line == line]


def next_lines(trace: Trace) -> dict[int, frozenset[int]]:
    """Covered line -> lines of the states right after its occurrences (-1: it was the last)."""
    out: dict[int, set[int]] = {}
    events = trace.events
    for i, e in enumerate(events):
        nxt = events[i + 1].line if i + 1 < len(events) else -1
        out.setdefault(e.line, set()).add(nxt)
    return {k: frozenset(v) for k, v in out.items()}


def next_lines_of(trace: Trace, line: int) -> frozenset[int]:
    """REval ``get_next_line``: ``{-1}`` for a line that never ran."""
    return next_lines(trace).get(line, frozenset({-1}))


def states_after(trace: Trace, line: int) -> list[Mapping[str, VarState]]:
    """REval ``get_states_after``: locals of the state after each occurrence of ``line``."""
    events = trace.events
    out = []
    for i in occurrences(trace, line):
        after = events[i + 1] if i + 1 < len(events) else events[i]
        out.append(after.locals)
    return out


def state_after_occurrence(trace: Trace, line: int, k: int) -> TraceEvent | None:
    """The state after the ``k``-th (1-based) execution of ``line``; None if it ran < k times."""
    idx = occurrences(trace, line)
    if k < 1 or k > len(idx):
        return None
    i = idx[k - 1]
    return trace.events[i + 1] if i + 1 < len(trace.events) else trace.events[i]


def value_after(trace: Trace, line: int, var: str) -> list[VarState] | None:
    """REval ``get_local``: ``var`` after each occurrence where it exists; None (Nil) if never."""
    found = [s[var] for s in states_after(trace, line) if var in s]
    return found or None
