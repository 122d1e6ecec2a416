"""REval answer parsing and judging (re-implemented from the behaviour of r-eval/REval ``evaluation.py``).

* Coverage: upper-case, text between ``[ANSWER]``/``[/ANSWER]``, first 3 characters; YES xor NO,
  anything else (and CoT without ``[/THOUGHT]``) is NO.
* Path: first line of the answer; ``-1`` -> -1, empty -> -2; otherwise every line number whose
  stripped source equals it (none -> -2). Correct iff any of them is in Next(line).
* State: ``value; type`` split on the last ``;`` with REval's type normalisation. Values are parsed
  with ``ast.literal_eval`` (never ``eval`` of model text in our process): a value REval would
  accept only through ``eval`` of an expression (``set()``, ``float('inf')``) is an ERROR here.
  Actual values come from the tracer as (repr, type name); ``_eq``: type must match one actual,
  the value's own type must be the declared one, floats within 1e-6, otherwise equality with an
  actual value parsed from its repr (or repr equality when the repr is not a literal).
* Output: REval's padding of short answers and its penalty patterns.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from stepcode.types import VarState

NIL = "Nil"
ERROR = "ERROR"


def answer_text(resp: str) -> str:
    idx = resp.find("[ANSWER]")
    if idx != -1:
        resp = resp[idx + 8 :].strip()
    for stop in ("[/ANSWER]", "[/ANSWER"):
        idx = resp.find(stop)
        if idx != -1:
            resp = resp[:idx].strip()
    return resp


def parse_coverage(resp: str, cot: bool) -> bool:
    ans = resp.upper().strip()
    if cot and "[/THOUGHT]" not in ans:
        return False
    ans = answer_text(ans)
    if not ans:
        return False
    head = ans[:3]
    yes, no = "YES" in head, "NO" in head
    return yes and not no


def parse_path(resp: str, cot: bool, codelines: Sequence[str]) -> list[int]:
    if cot and "[/THOUGHT]" not in resp:
        return [-2]
    ans = answer_text(resp).split("\n")[0].strip()
    if ans == "":
        return [-2]
    if ans == "-1":
        return [-1]
    lines = [i + 1 for i, src in enumerate(codelines) if src.strip() == ans]
    return lines or [-2]


def _normalise_type(t: str) -> str:
    m = re.match(r"<class '(.*)'>", t)
    if m:
        t = m.group(1)
    m = re.match(r"(.*)\[.*\]", t)
    if m:
        t = m.group(1)
    t = {"string": "str", "integer": "int"}.get(t, t)
    return "tuple" if ("," in t or "tuple" in t) else t


def parse_state(resp: str, cot: bool) -> tuple[Any, str] | str:
    """``(value, type name)``, ``NIL`` or ``ERROR``."""
    if cot and "[/THOUGHT]" not in resp:
        return ERROR
    resp = resp.replace("\u2018", "'").replace("\u2019", "'")
    resp = answer_text(resp.replace("\u201c", '"').replace("\u201d", '"').strip())
    if resp.capitalize() == NIL or resp == "[Nil]":
        return NIL
    semi = resp.rfind(";")
    if semi == -1:
        return ERROR
    value, typ = resp[:semi].strip(), _normalise_type(resp[semi + 1 :].strip().lower())
    if value.capitalize() == NIL:
        return NIL
    if typ == "str":
        try:
            v = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            v = value
        return v, "str"
    if value == "None" or typ == "nonetype":
        return None, "NoneType"
    try:
        return ast.literal_eval(value), typ
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ERROR


def _actual_value(vs: VarState) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(vs.repr)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, vs.repr


def state_equal(ans: tuple[Any, str] | str, actual: Sequence[VarState] | None) -> bool:
    """REval ``_eq`` over tracer values (``actual`` None = Nil)."""
    if ans == ERROR:
        return False
    if ans == NIL or actual is None:
        return ans == NIL and actual is None
    assert isinstance(ans, tuple)
    value, typ = ans
    if typ not in {a.type for a in actual} or type(value).__name__ != typ:
        return False
    for a in actual:
        if a.type != typ:
            continue
        parsed, v = _actual_value(a)
        try:
            if typ == "float" and parsed and abs(value - v) < 1e-6:
                return True
            if parsed and typ != "float" and value == v:
                return True
            if not parsed and repr(value) == v:
                return True
        except Exception:  # noqa: BLE001 - odd comparisons are a mismatch, never a crash
            continue
    return False


def output_answer(resp: str, cot: bool) -> str:
    if cot and "[/THOUGHT]" not in resp:
        return ERROR
    return answer_text(resp)


def pad_output(ans: str, question: str) -> str:
    if ans == ERROR:
        return "assert False"
    q, a = question.strip().split("\n"), ans.strip().split("\n")
    return ans if len(a) >= len(q) else "\n".join(q[: len(q) - len(a)] + a)


def penalised(code: str, question: str) -> bool:
    bad = ("assertTrue(True)", "assertFalse(False)", "assert True", "assert False")
    if any(b in code for b in bad):
        return True
    return code.count("assert") < question.count("assert")
