"""Run many *synthesized* programs per sandbox job: one fork per batch instead of one per program.

The batch is one sandboxed job (same isolation and limits as any other run, with the wall time
scaled by the batch size) whose driver ``exec``s each program in a fresh namespace, evaluates
its call and reports ``["ok", repr]`` or ``["error", "ExcType"]`` as one JSON line on stdout
after a marker. Programs of one batch share a process, so this is only for code we generated
(bounded loops, no I/O); real code runs one program per job. A batch that does not finish
(timeout, memory, crash, output cap) is re-run one program per job, so a bad program costs
only its own result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from stepcode.execution import Job, run_jobs
from stepcode.types import ExecStatus, Limits

_MARKER = "__stepcode_batch_result__"
_DRIVER = """
import json as _j
import signal as _sig


class _Slow(BaseException):
    pass


def _alarm(*_):
    raise _Slow()


_sig.signal(_sig.SIGALRM, _alarm)
_out = []
for _src, _call in _ITEMS:
    _g = {"__name__": "__main__"}
    _sig.setitimer(_sig.ITIMER_REAL, _BUDGET)
    try:
        exec(compile(_src, "<program>", "exec"), _g)
        _v = eval(_call, _g)
        _sig.setitimer(_sig.ITIMER_REAL, 0)
        _r = repr(_v)
        _out.append(["ok", _r if len(_r) <= 10000 else _r[:10000] + "..."])
    except _Slow:
        _out.append(["timeout", None])
    except BaseException as _e:
        _sig.setitimer(_sig.ITIMER_REAL, 0)
        _out.append(["error", type(_e).__name__])
print(_MARKER)
print(_j.dumps(_out))
"""


def run_calls(
    items: Sequence[tuple[str, str]], limits: Limits, batch: int = 32, budget_s: float = 0.1
) -> list[tuple[str, str | None]]:
    """``(status, repr or None)`` for each ``(code, call)``; status is ``ok`` or a failure name.

    ``budget_s``: per-program wall time inside a batch (SIGALRM); slower programs are ``timeout``
    (a synthesized program that needs more is too heavy to trace and learn from anyway).
    """
    chunks = [list(items[i : i + batch]) for i in range(0, len(items), batch)]
    scaled = Limits(**{**limits.__dict__, "timeout_s": limits.timeout_s * max(1, batch // 4)})
    jobs = [
        Job(
            code=f"_ITEMS = {chunk!r}\n_BUDGET = {budget_s!r}\n_MARKER = {_MARKER!r}\n{_DRIVER}",
            limits=scaled,
        )
        for chunk in chunks
    ]
    out: list[tuple[str, str | None]] = []
    for chunk, raw in zip(chunks, run_jobs(jobs), strict=True):
        parsed = (
            _parse(raw.result.stdout, len(chunk)) if raw.result.status is ExecStatus.OK else None
        )
        if parsed is None:
            singles = run_jobs([Job(code=c, call=call, limits=limits) for c, call in chunk])
            parsed = [(r.result.status.value, r.result.return_value) for r in singles]
        out += parsed
    return out


def _parse(stdout: str, n: int) -> list[tuple[str, str | None]] | None:
    _, sep, tail = stdout.rpartition(_MARKER + "\n")
    if not sep:
        return None
    try:
        rows = json.loads(tail)
    except json.JSONDecodeError:
        return None
    if not isinstance(rows, list) or len(rows) != n:
        return None
    return [(str(s), str(v) if s == "ok" else None) for s, v in rows]
