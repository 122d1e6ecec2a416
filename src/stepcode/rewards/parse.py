"""Parse a model's completion. Never raises: malformed output is a ``Parsed(ok=False, reason=...)``.

Formats (``tasks.templates``)::

    [<input>\\nf(<args>)\\n</input>]          input-aligned only
    [<trace>\\nNAME: value\\n...</trace>]      aligned tasks
    <answer>\\nassert f(<args>) == <literal>\\n</answer>

Reasons: ``no_answer_block``, ``no_assert``, ``unparsable_assert``, ``not_a_call``,
``unparsable_literal``, ``not_literal``, ``no_trace_block``, ``bad_trace_line``, ``too_long``.
``step_spans`` are the char spans of the trace lines and ``answer_span`` that of the answer block:
the RL stage maps them to tokens.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from stepcode.types import Task, TaskKind

MAX_COMPLETION_CHARS = 200_000
MAX_LITERAL_CHARS = 20_000
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|\Z)", re.S)
_TRACE = re.compile(r"<trace>(.*?)(?:</trace>|\Z)", re.S)
_INPUT = re.compile(r"<input>(.*?)(?:</input>|\Z)", re.S)


@dataclass(frozen=True, kw_only=True)
class Parsed:
    ok: bool
    reason: str = "ok"
    predicted: str | None = None
    """output tasks: the literal text; input tasks: the argument list text (no parentheses)"""
    steps: tuple[tuple[str, str], ...] = ()
    """(name, value text) per trace line, in order"""
    step_spans: tuple[tuple[int, int], ...] = ()
    answer_span: tuple[int, int] | None = None
    has_trace: bool = False
    proposed_input: str | None = None
    """input-aligned: the arguments in the <input> block"""


def parse_completion(task: Task, completion: str) -> Parsed:
    try:
        return _parse(task, completion)
    except (RecursionError, MemoryError, ValueError, SyntaxError, TypeError) as e:  # never raise
        return Parsed(ok=False, reason=f"parser_error:{type(e).__name__}")


def _parse(task: Task, text: str) -> Parsed:
    if len(text) > MAX_COMPLETION_CHARS:
        return Parsed(ok=False, reason="too_long")
    steps, spans, has_trace = _trace(text)
    matches = list(_ANSWER.finditer(text))
    common = {"steps": steps, "step_spans": spans, "has_trace": has_trace}
    if not matches:
        return Parsed(ok=False, reason="no_answer_block", **common)
    m = matches[-1]
    span = (m.start(), m.end())
    kind = task.kind
    entry = task.reference.entry_point
    proposed = None
    if kind is TaskKind.INPUT_ALIGNED:
        im = _INPUT.search(text)
        proposed = _call_args(im.group(1).strip(), entry)[0] if im else None
    if kind in (TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED) and not has_trace:
        return Parsed(
            ok=False, reason="no_trace_block", answer_span=span, proposed_input=proposed, **common
        )
    line = next(
        (ln.strip() for ln in m.group(1).splitlines() if ln.strip().startswith("assert")), None
    )
    if line is None:
        return Parsed(ok=False, reason="no_assert", answer_span=span, **common)
    predicted, reason = _assertion(
        line, entry, output=kind in (TaskKind.OUTPUT, TaskKind.OUTPUT_ALIGNED, TaskKind.WHITEBOX)
    )
    return Parsed(ok=predicted is not None, reason=reason, predicted=predicted, answer_span=span,
                  proposed_input=proposed, **common)  # fmt: skip


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


def _assertion(line: str, entry: str, *, output: bool) -> tuple[str | None, str]:
    """The literal right-hand side (output tasks) or the call's arguments (input tasks)."""
    try:
        node = ast.parse(line, mode="exec").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, "unparsable_assert"
    if len(node) != 1 or not isinstance(node[0], ast.Assert):
        return None, "unparsable_assert"
    test = node[0].test
    if not (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
    ):
        return None, "unparsable_assert"
    left, right = test.left, test.comparators[0]
    if output:
        text = ast.get_source_segment(line, right) or ""
        return (text, "ok") if is_literal(text) else (None, "not_literal")
    if not (
        isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == entry
    ):
        return None, "not_a_call"
    args_text = ast.get_source_segment(line, left) or ""
    args, reason = _call_args(args_text, entry)
    return args, reason


def _call_args(call_text: str, entry: str) -> tuple[str | None, str]:
    """``f(1, x=[2])`` -> ``"1, x=[2]"`` when every argument is a literal."""
    try:
        node = ast.parse(call_text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, "not_a_call"
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry
    ):
        return None, "not_a_call"
    parts = []
    for a in node.args:
        seg = ast.get_source_segment(call_text, a) or ""
        if isinstance(a, ast.Starred) or not is_literal(seg):
            return None, "not_literal"
        parts.append(seg)
    for kw in node.keywords:
        seg = ast.get_source_segment(call_text, kw.value) or ""
        if kw.arg is None or not is_literal(seg):
            return None, "not_literal"
        parts.append(f"{kw.arg}={seg}")
    return ", ".join(parts), "ok"


def is_literal(text: str) -> bool:
    """True when ``text`` is a Python literal whose value prints back as a literal."""
    if not text or len(text) > MAX_LITERAL_CHARS:
        return False
    try:
        value = ast.literal_eval(text)
        return ast.literal_eval(canonical_literal(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, OverflowError):
        return False


def canonical_literal(value: object) -> str:
    """The repr we put into a trusted check (sets sorted when possible, ``set()`` for empty)."""
    if isinstance(value, set | frozenset):
        if not value:
            return "set()"
        try:
            items = sorted(value)
        except TypeError:
            items = list(value)
        return "{" + ", ".join(canonical_literal(v) for v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(canonical_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(canonical_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{canonical_literal(k)}: {canonical_literal(v)}" for k, v in value.items())
            + "}"
        )
    return repr(value)
