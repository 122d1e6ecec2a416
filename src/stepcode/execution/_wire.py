"""The sandbox wire: the one schema for what crosses a process boundary, used by both sides.

Stdlib only: the worker (``python -I -S _worker.py``, which loads it as a sibling file) and the
trusted parent (``stepcode.execution._wire``) import this same file. Three frames:

* a **job** (parent -> worker): ``JOB_KEYS`` exactly, limits with ``LIMIT_KEYS`` exactly;
* a **run** (child -> worker, and inside the worker's reply): status, error, return value,
  anchor hits, the tracer's payload, the integrity flag;
* a **reply** (worker -> parent): a run plus stdout, stderr and the run's duration.

Every frame is length-prefixed JSON. ``decode`` refuses what is too big, not UTF-8, not JSON or
nested too deep; the ``check_*`` functions refuse wrong keys, wrong types, out-of-range numbers
and strings or lists over their bounds (bounds come from the job's own limits), and replace lone
surrogates so that a checked frame can always be re-encoded, written to a file or printed. Each
raises ``WireError`` with a short reason, which the caller turns into that run's ``crash``.
"""

from __future__ import annotations

import json
import math

HEADER_BYTES = 4
FRAME_CAP = 16 << 20  # bytes of one frame; a child's run frame is capped lower (RUN_CAP)
RUN_CAP = 8 << 20
RETURN_REPR_CAP = 10_000
CUT_MARK = "...<truncated>"  # ends a value repr cut at its cap
ERROR_CAP = 2_000
NAME_CAP = 10_000  # function, variable and anchor names, type names, watch expressions
STATUSES = frozenset({"ok", "error", "timeout", "memory", "output_limit", "crash"})
EVENTS = frozenset({"line", "return", "exception"})
INTEGRITY = frozenset(
    {
        "ok",
        "hook_removed",  # the line tracer's hook was gone when the run ended
        "hook_replaced",  # another trace function was installed
        "settrace",  # the program called sys.settrace (or PyEval_SetTrace) while traced
        "line_tracing_off",  # f_trace_lines switched off for a frame of the program
        "frame_untraced",  # a frame's own trace function was removed or replaced
        "foreign_code",  # code the harness did not compile ran under the program's file name
        "threads",  # the program started a thread, which the tracer does not follow
        "anchor_forged",  # the anchor hook was called from outside an anchor line
        "anchor_rebound",  # the anchor hook name was rebound
    }
)
LIMIT_KEYS = {
    "timeout_s": float,
    "memory_mb": int,
    "max_output_bytes": int,
    "max_file_bytes": int,
    "max_open_files": int,
    "max_trace_steps": int,
    "max_repr_chars": int,
    "max_anchor_hits": int,
    "tmpfs_mb": int,
}
JOB_KEYS = frozenset(
    {"code", "call", "limits", "trace", "anchors", "anchor_lines", "filename", "watch"}
)
RUN_KEYS = frozenset(
    {"status", "error", "return_value", "anchors", "anchors_truncated", "trace", "integrity"}
)
REPLY_KEYS = RUN_KEYS | {"stdout", "stderr", "duration_s"}
_INT_MAX = 1 << 31


class WireError(ValueError):
    """A frame that does not match the schema; the message is the reason."""


# ---------------------------------------------------------------- framing --------------------


def encode(obj: object) -> bytes:
    """One frame: 4-byte big-endian length, then UTF-8 JSON (a lone surrogate, which only an
    unchecked string can hold, goes out escaped and is caught by the reader's check)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    data = text.encode("utf-8", "backslashreplace")
    return len(data).to_bytes(HEADER_BYTES, "big") + data


def frame_length(head: bytes, cap: int = FRAME_CAP) -> int:
    n = int.from_bytes(head, "big")
    if n > cap:
        raise WireError(f"frame of {n} bytes is over the {cap}-byte cap")
    return n


def decode(data: bytes, cap: int = FRAME_CAP) -> object:
    """The JSON value of a frame body; never anything but ``WireError`` for bad bytes."""
    if len(data) > cap:
        raise WireError(f"frame of {len(data)} bytes is over the {cap}-byte cap")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("frame is not UTF-8") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise WireError("frame is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, and ints over the digit limit
        raise WireError(f"frame is not JSON ({type(e).__name__})") from None


# ---------------------------------------------------------------- values ---------------------


def _text(value: object, cap: int, what: str) -> str:
    if type(value) is not str:
        raise WireError(f"{what}: expected a string, got {type(value).__name__}")
    if len(value) > cap:
        raise WireError(f"{what}: {len(value)} chars, over the {cap}-char bound")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: keep them visible, never un-encodable
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _opt_text(value: object, cap: int, what: str) -> str | None:
    return None if value is None else _text(value, cap, what)


def _int(value: object, what: str, lo: int = 0, hi: int = _INT_MAX) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise WireError(f"{what}: expected an int in [{lo}, {hi}]")
    return value


def _bool(value: object, what: str) -> bool:
    if type(value) is not bool:
        raise WireError(f"{what}: expected true or false")
    return value


def _list(value: object, cap: int, what: str) -> list:
    if type(value) is not list:
        raise WireError(f"{what}: expected a list, got {type(value).__name__}")
    if len(value) > cap:
        raise WireError(f"{what}: {len(value)} items, over the {cap}-item bound")
    return value


def _keys(obj: object, keys: frozenset[str], what: str, optional: frozenset[str] = frozenset()):
    if type(obj) is not dict:
        raise WireError(f"{what}: expected an object, got {type(obj).__name__}")
    missing = keys - optional - obj.keys()
    extra = obj.keys() - keys
    if missing or extra:
        raise WireError(f"{what}: missing {sorted(missing)}, unexpected {sorted(extra)[:5]}")
    return obj


# ---------------------------------------------------------------- frames ---------------------


def check_limits(obj: object) -> dict:
    _keys(obj, frozenset(LIMIT_KEYS), "limits")
    out = {}
    for key, kind in LIMIT_KEYS.items():
        value = obj[key]
        if kind is float and type(value) is int:
            value = float(value)
        if type(value) is not kind or not (0 < value < 1 << 50):
            raise WireError(f"limits.{key}: expected a positive {kind.__name__}")
        if kind is float and not math.isfinite(value):
            raise WireError(f"limits.{key}: not finite")
        out[key] = value
    return out


def check_job(obj: object) -> dict:
    """A job frame as the parent builds it (``sandbox._job_frame``)."""
    _keys(obj, JOB_KEYS, "job")
    return {
        "code": _text(obj["code"], 1 << 24, "job.code"),
        "call": _opt_text(obj["call"], 1 << 20, "job.call"),
        "limits": check_limits(obj["limits"]),
        "trace": _bool(obj["trace"], "job.trace"),
        "anchors": _bool(obj["anchors"], "job.anchors"),
        "anchor_lines": None
        if obj["anchor_lines"] is None
        else [_int(n, "job.anchor_lines") for n in _list(obj["anchor_lines"], 1 << 20, "lines")],
        "filename": _text(obj["filename"], NAME_CAP, "job.filename"),
        "watch": [_text(w, NAME_CAP, "job.watch") for w in _list(obj["watch"], 1000, "job.watch")],
    }


def _repr_cap(limits: dict) -> int:
    return limits["max_repr_chars"] + len(CUT_MARK)


def check_trace(obj: object, limits: dict) -> dict:
    """The line recorder's payload: ``{"states", "truncated", "module_end"}`` (``_tracehook``)."""
    _keys(obj, frozenset({"states", "truncated", "module_end"}), "trace")
    # the step bound holds for the module's states and again for the call's (see Recorder)
    states = _list(obj["states"], 2 * limits["max_trace_steps"] + 2, "trace.states")
    cap = _repr_cap(limits)
    out = []
    for state in states:
        if type(state) is not list or len(state) != 7:
            raise WireError("trace.states: each state is a list of 7 fields")
        line, func, frame_id, event, local_vars, ret, exc = state
        if type(event) is not str or event not in EVENTS:
            raise WireError("trace.states: unknown event")
        if type(local_vars) is not dict:
            raise WireError("trace.states: locals must be an object")
        described = {}
        for name, desc in local_vars.items():
            if type(desc) is not list or len(desc) != 2:
                raise WireError("trace.states: a local is [repr, type]")
            described[_text(name, NAME_CAP, "local name")] = [
                _text(desc[0], cap, "local repr"),
                _text(desc[1], NAME_CAP, "local type"),
            ]
        out.append(
            [
                _int(line, "state line"),
                _text(func, NAME_CAP, "state func"),
                _int(frame_id, "state frame id"),
                event,
                described,
                _opt_text(ret, cap, "state return"),
                _opt_text(exc, NAME_CAP, "state exception"),
            ]
        )
    module_end = obj["module_end"]
    if module_end is not None:
        _int(module_end, "trace.module_end", 0, len(out))
    return {
        "states": out,
        "truncated": _bool(obj["truncated"], "trace.truncated"),
        "module_end": module_end,
    }


def check_run(obj: object, limits: dict, *, extra: frozenset[str] = frozenset()) -> dict:
    """A run's outcome (from the child, or the run part of a reply): checked and normalised."""
    _keys(obj, RUN_KEYS | extra, "run", optional=frozenset({"trace"}))
    status = obj["status"]
    if type(status) is not str or status not in STATUSES:
        raise WireError("run.status: unknown status")
    integrity = obj["integrity"]
    if type(integrity) is not str or integrity not in INTEGRITY:
        raise WireError("run.integrity: unknown flag")
    cap = _repr_cap(limits)
    hits = []
    for hit in _list(obj["anchors"], limits["max_anchor_hits"], "run.anchors"):
        if type(hit) is not list or len(hit) != 3:
            raise WireError("run.anchors: each hit is [id, name, value]")
        hits.append(
            [
                _int(hit[0], "anchor id"),
                _text(hit[1], NAME_CAP, "anchor name"),
                _text(hit[2], cap, "anchor value"),
            ]
        )
    trace = obj.get("trace")
    return {
        "status": status,
        "error": _opt_text(obj["error"], ERROR_CAP, "run.error"),
        "return_value": _opt_text(
            obj["return_value"], RETURN_REPR_CAP + len(CUT_MARK), "run.return_value"
        ),
        "anchors": hits,
        "anchors_truncated": _bool(obj["anchors_truncated"], "run.anchors_truncated"),
        "trace": None if trace is None else check_trace(trace, limits),
        "integrity": integrity,
    }


def check_reply(obj: object, limits: dict) -> dict:
    """The worker's reply to the parent: a run plus the captured output and the duration."""
    out = check_run(obj, limits, extra=frozenset({"stdout", "stderr", "duration_s"}))
    cap = limits["max_output_bytes"]
    out["stdout"] = _text(obj["stdout"], cap, "reply.stdout")
    out["stderr"] = _text(obj["stderr"], cap, "reply.stderr")
    duration = obj["duration_s"]
    if type(duration) not in (int, float) or not 0 <= duration < 1e7:
        raise WireError("reply.duration_s: expected seconds")
    out["duration_s"] = float(duration)
    return out


def failure(status: str, error: str) -> dict:
    """A run that produced nothing else: what the worker reports for a crash, a kill, a cut."""
    return {
        "status": status,
        "error": error[:ERROR_CAP],
        "return_value": None,
        "anchors": [],
        "anchors_truncated": False,
        "trace": None,
        "integrity": "ok",
    }
