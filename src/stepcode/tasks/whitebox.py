"""White-box questions about one traced run (REval / ExecVerify semantics, original line numbers).

Four kinds, all answered by one line of text (``Question.answers`` holds every accepted answer):

* ``value_type``: "value and type of ``v`` after line N has run for the K-th time". From two
  consecutive states of the same frame (ExecVerify ``get_state_qas``): every local that is new or
  whose repr changed. Answer ``<repr>; <type name>`` (``3; int``). Values whose repr was cut by the
  tracer are not asked about.
* ``next_line``: "which line runs right after the K-th execution of line N" (ExecVerify
  ``get_path_qas``): the verbatim stripped source of the next traced line, ``-1`` at the end.
  Only interesting transitions (a branch/loop line, or a jump) are asked about.
* ``coverage``: "is line N executed" (REval): ``YES`` / ``NO``; lines of the entry function.
* ``path``: REval's path task: the source of any line in Next(N) (all occurrences), ``-1`` when the
  run ends after N or N never runs.

``make_questions`` is pure and deterministic under ``seed`` (its own ``random.Random`` seeded with
the seed and the program text); at most ``max_questions`` per program, mixed over kinds. Answers
are judged in ``rewards.whitebox.score_answer`` (with the judges' one equality). Not done: REval's
output question (the assertion plays that role) and ClassEval-style test code.
"""

from __future__ import annotations

import ast
import random
from collections import Counter

from stepcode.tasks import templates
from stepcode.tasks.templates import normalize_repr
from stepcode.types import Question, Trace

KINDS = ("value_type", "next_line", "coverage", "path")
_BRANCH = ("if ", "elif ", "for ", "while ", "else", "try", "except", "return", "break", "continue")


def make_questions(
    code: str, entry: str, trace: Trace, *, max_questions: int = 5, seed: int = 0
) -> tuple[Question, ...]:
    """Up to ``max_questions`` questions about ``trace`` (a run of ``entry`` in ``code``)."""
    if max_questions <= 0 or not trace.events:
        return ()
    lines = code.splitlines()
    body = _body_lines(code, entry, lines)
    pools = {
        "value_type": _value_type(trace, lines),
        "next_line": _next_line(trace, lines),
        "coverage": _coverage(trace, lines, body),
        "path": _path(trace, lines, body),
    }
    rng = random.Random(f"{seed}\x00{entry}\x00{code}")
    for pool in pools.values():
        rng.shuffle(pool)
    picked: list[Question] = []
    while len(picked) < max_questions and any(pools.values()):
        for kind in KINDS:  # round robin keeps the kinds mixed
            if pools[kind] and len(picked) < max_questions:
                picked.append(pools[kind].pop())
    return tuple(picked)


def _src(lines: list[str], n: int) -> str:
    return lines[n - 1].strip() if 0 < n <= len(lines) else ""


def _body_lines(code: str, entry: str, lines: list[str]) -> list[int]:
    """Askable lines of the entry function: code lines of its body (no blanks/comments/else)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    if fn is None or fn.end_lineno is None:
        return []
    out = []
    for n in range(fn.body[0].lineno, fn.end_lineno + 1):
        s = _src(lines, n)
        if s and not s.startswith("#") and s not in ("else:", "try:", "finally:") and len(s) > 3:
            out.append(n)
    return out


def _value_type(trace: Trace, lines: list[str]) -> list[Question]:
    seen: Counter[int] = Counter()
    out: list[Question] = []
    events = trace.events
    for cur, nxt in zip(events, events[1:], strict=False):
        seen[cur.line] += 1
        if cur.frame_id != nxt.frame_id:
            continue
        for var, state in nxt.locals.items():
            old = cur.locals.get(var)
            if (old is not None and old.repr == state.repr) or state.repr.endswith("..."):
                continue
            k = seen[cur.line]
            text = templates.question_text("value_type", cur.line, _src(lines, cur.line), k, var)
            out.append(Question(kind="value_type", line=cur.line, var=var, occurrence=k, text=text,
                                answers=(f"{normalize_repr(state.repr)}; {state.type}",)))  # fmt: skip
    return out


def _next_line(trace: Trace, lines: list[str]) -> list[Question]:
    seen: Counter[int] = Counter()
    out: list[Question] = []
    events = trace.events
    for i, cur in enumerate(events):
        seen[cur.line] += 1
        nxt = events[i + 1].line if i + 1 < len(events) else -1
        src = _src(lines, cur.line)
        jump = (
            nxt != cur.line + 1 or src.startswith(_BRANCH) or _src(lines, nxt).startswith(_BRANCH)
        )
        if not jump or nxt == cur.line or len(src) <= 5:
            continue
        k = seen[cur.line]
        text = templates.question_text("next_line", cur.line, src, k)
        answer = _src(lines, nxt) if nxt > 0 else "-1"
        out.append(Question(kind="next_line", line=cur.line, occurrence=k, text=text,
                            answers=(answer,)))  # fmt: skip
    return out


def _coverage(trace: Trace, lines: list[str], body: list[int]) -> list[Question]:
    covered = {e.line for e in trace.events}
    return [
        Question(
            kind="coverage",
            line=n,
            text=templates.question_text("coverage", n, _src(lines, n)),
            answers=("YES" if n in covered else "NO",),
        )  # fmt: skip
        for n in body
    ]


def _path(trace: Trace, lines: list[str], body: list[int]) -> list[Question]:
    events = trace.events
    nexts: dict[int, set[int]] = {}
    for i, e in enumerate(events):
        nexts.setdefault(e.line, set()).add(events[i + 1].line if i + 1 < len(events) else -1)
    out = []
    for n in body:
        answers = sorted({_src(lines, m) if m > 0 else "-1" for m in nexts.get(n, {-1})})
        text = templates.question_text("path", n, _src(lines, n))
        out.append(Question(kind="path", line=n, text=text, answers=tuple(answers)))
    return out
