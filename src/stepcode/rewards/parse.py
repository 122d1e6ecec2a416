"""Parse a model's completion. Never raises: malformed output is a ``Parsed(ok=False, reason=...)``.

Formats (``tasks.templates``)::

    [<input>\\nf(<args>)\\n</input>]          input-aligned only
    [<trace>\\nNAME: value\\n...</trace>]      aligned tasks
    <answer>\\nassert f(<args>) == <literal>\\n</answer>

White-box answers: ``<answer>`` holds the assert line, then one line per question in order.

The predicted output (a value) and the predicted input (the values of one call) are read by
``rewards.values`` (``parse_value`` / ``parse_call``, the one parser every judge uses): values, not
code, bounded before anything is built. ``Parsed.predicted`` is their canonical re-serialisation.

Reasons (``Parsed.reason``): ``no_answer_block``, ``no_assert``, ``unparsable_assert``,
``not_a_call``, ``no_trace_block``, ``no_input_block``, ``bad_input_block``, ``input_mismatch``
(the answer's call differs from the ``<input>`` block), ``too_long``, ``parser_error:<Exc>``, and
the value parser's refusals ``not_a_value``, ``unknown_name``, ``too_deep``, ``too_large``
(``FORMAT_OK_REASONS``: the answer is well formed, its value is not). Trace problems do not fail
the parse (the answer still earns its outcome): ``Parsed.trace_reason`` says ``wrong_step_count``
or ``name_mismatch``. ``step_spans`` are the char spans of the trace lines and ``answer_span``
that of the answer block: the RL stage maps them to tokens.
"""

from __future__ import annotations

import ast
import re

from stepcode.rewards.values import MAX_TEXT_CHARS, parse_call_for, parse_value_for
from stepcode.types import Parsed, Task, TaskKind

MAX_COMPLETION_CHARS = 200_000
FORMAT_OK_REASONS = frozenset(("not_a_value", "unknown_name", "too_deep", "too_large"))
"""a well-formed answer whose value ``rewards.values`` refuses (counts as format-ok)"""
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|\Z)", re.S)
_TRACE = re.compile(r"<trace>(.*?)(?:</trace>|\Z)", re.S)
_INPUT = re.compile(r"<input>(.*?)(?:</input>|\Z)", re.S)


def parse_completion(task: Task, completion: str) -> Parsed:
    """Parse ``completion`` for ``task``. Never raises (model output is expected to be malformed)."""
    try:
        return _parse(task, completion)
    except Exception as e:  # noqa: BLE001 - model output must never crash the trainer
        return Parsed(ok=False, reason=f"parser_error:{type(e).__name__}")


def _parse(task: Task, text: str) -> Parsed:
    if not isinstance(text, str) or len(text) > MAX_COMPLETION_CHARS:
        return Parsed(ok=False, reason="too_long")
    kind = task.kind
    if kind is TaskKind.WHITEBOX:
        return _parse_whitebox(task, text)
    steps, spans, has_trace = _trace(text)
    aligned = kind in (TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED)
    trace_reason = _trace_reason(task, steps) if has_trace else "no_trace_block"
    common = {"steps": steps, "step_spans": spans, "has_trace": has_trace,
              "trace_reason": trace_reason if aligned else "ok"}  # fmt: skip
    matches = list(_ANSWER.finditer(text))
    if not matches:
        return Parsed(ok=False, reason="no_answer_block", **common)
    m = matches[-1]
    span = (m.start(), m.end())
    ref = task.reference
    proposed = None
    if kind is TaskKind.INPUT_ALIGNED:
        im = _INPUT.search(text)
        proposed = _call_args(im.group(1).strip(), ref.entry_point, ref.code)[0] if im else None
        if proposed is None:
            return Parsed(ok=False, reason="no_input_block" if im is None else "bad_input_block",
                          answer_span=span, **common)  # fmt: skip
    if aligned and not has_trace:
        return Parsed(ok=False, reason="no_trace_block", answer_span=span,
                      proposed_input=proposed, **common)  # fmt: skip
    line = next((ln.strip() for ln in m.group(1).splitlines() if ln.strip().startswith("assert")), None)  # fmt: skip
    if line is None:
        return Parsed(ok=False, reason="no_assert", answer_span=span, proposed_input=proposed, **common)  # fmt: skip
    output = kind in (TaskKind.OUTPUT, TaskKind.OUTPUT_ALIGNED)
    predicted, reason = _assertion(line, ref.entry_point, ref.code, output=output)
    if proposed is not None and predicted is not None and predicted != proposed:
        predicted, reason = None, "input_mismatch"
    return Parsed(ok=predicted is not None, reason=reason, predicted=predicted, answer_span=span,
                  proposed_input=proposed, **common)  # fmt: skip


def _trace_reason(task: Task, steps: tuple[tuple[str, str], ...]) -> str:
    """Output-aligned: compare the trace lines' names with the ground truth (input-aligned: 'ok',
    its truth is the trace of the model's own input, known only after running it)."""
    if task.kind is not TaskKind.OUTPUT_ALIGNED:
        return "ok"
    truth = task.reference.anchors
    if len(steps) != len(truth):
        return "wrong_step_count"
    if any(name != hit.name for (name, _), hit in zip(steps, truth, strict=True)):
        return "name_mismatch"
    return "ok"


def _parse_whitebox(task: Task, text: str) -> Parsed:
    """``<answer>`` = the assert line, then one line per question (in question order)."""
    matches = list(_ANSWER.finditer(text))
    if not matches:
        return Parsed(ok=False, reason="no_answer_block")
    m = matches[-1]
    pos, lines = m.start(1), []
    for raw in m.group(1).splitlines(keepends=True):
        if raw.strip():
            lead = len(raw) - len(raw.lstrip())
            lines.append((raw.strip(), (pos + lead, pos + lead + len(raw.strip()))))
        pos += len(raw)
    if not lines or not lines[0][0].startswith("assert"):
        return Parsed(ok=False, reason="no_assert", answer_span=(m.start(), m.end()))
    ref = task.reference
    predicted, reason = _assertion(lines[0][0], ref.entry_point, ref.code, output=True)
    rest = lines[1:]
    n_q = len(ref.questions)
    steps = tuple((f"q{k + 1}", t) for k, (t, _) in enumerate(rest))
    return Parsed(
        ok=predicted is not None, reason=reason, predicted=predicted, steps=steps,
        step_spans=tuple(s for _, s in rest), answer_span=lines[0][1],
        trace_reason="ok" if len(rest) == n_q else "wrong_step_count",
    )  # fmt: skip


def _trace(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[int, int], ...], bool]:
    m = _TRACE.search(text)
    if m is None:
        return (), (), False
    steps, spans = [], []
    pos = m.start(1)
    for raw in m.group(1).splitlines(keepends=True):
        start, body = pos, raw.rstrip("\n")
        pos += len(raw)
        if not body.strip():
            continue
        name, sep, value = body.partition(": ")
        if not sep:
            name, value = body.strip(), ""
        steps.append((name.strip(), value.strip()))
        spans.append((start, start + len(raw)))
    return tuple(steps), tuple(spans), True


def _assertion(line: str, entry: str, code: str, *, output: bool) -> tuple[str | None, str]:
    """The predicted value (output tasks) or the call's arguments (input tasks), re-serialised."""
    if len(line) > MAX_TEXT_CHARS + 2 * len(entry) + 100:
        return None, "too_long"
    try:
        node = ast.parse(line, mode="exec").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, "unparsable_assert"
    if len(node) != 1 or not isinstance(node[0], ast.Assert) or node[0].msg is not None:
        return None, "unparsable_assert"
    test = node[0].test
    if not (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
    ):
        return None, "unparsable_assert"
    left, right = test.left, test.comparators[0]
    if output:
        got = parse_value_for(code, ast.get_source_segment(line, right) or "")
        return (got.text, "ok") if got.ok else (None, got.reason)
    if not (
        isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == entry
    ):
        return None, "not_a_call"
    return _call_args(ast.get_source_segment(line, left) or "", entry, code)


def _call_args(call_text: str, entry: str, code: str) -> tuple[str | None, str]:
    """``f(1, x=[2])`` -> ``"1, x=[2]"`` (re-serialised) when the call's arguments are values."""
    got = parse_call_for(code, call_text, entry)
    return (got.args_text, "ok") if got.ok else (None, got.reason)
