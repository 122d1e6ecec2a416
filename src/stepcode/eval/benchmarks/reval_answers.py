"""REval answer parsing and judging (re-implemented from the behaviour of r-eval/REval ``evaluation.py``).

* Coverage: upper-case, text between ``[ANSWER]``/``[/ANSWER]``, first 3 characters; YES xor NO,
  anything else (and CoT without ``[/THOUGHT]``) is NO.
* Path: first line of the answer; ``-1`` -> -1, empty -> -2; otherwise every line number whose
  stripped source equals it (none -> -2). Correct iff any of them is in Next(line).
* State: ``value; type`` split on the last ``;`` with REval's type normalisation. The value is read
  as a literal (``reval_literals``: ``rewards.values.parse_value`` plus ``bytearray(b'a')``), never
  run: a value REval accepts only by ``eval``-ing an expression (``1 + 1``) is an ERROR here, and so
  is anything over the size bounds (``MAX_ANSWER_CHARS``, ``parse_value``'s own).
  Actual values come from the tracer as (repr, type name); ``_eq``: type must match one actual,
  the value's own type must be the declared one, floats within 1e-6, otherwise equality with an
  actual value read from its repr (or repr equality when the repr has no literal form).
* Output: REval's padding of short answers and its penalty patterns.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from typing import Any

from stepcode.eval.benchmarks import reval_literals as rl
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


MAX_TYPE_CHARS = 200
"""a declared type longer than this is an ERROR (type names are short; bounds the regexes)"""
MAX_ANSWER_CHARS = 100_000
"""an answer longer than this is wrong without being read (REval allows 256 / 1024 new tokens)"""


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
    if len(resp) > MAX_ANSWER_CHARS or (cot and "[/THOUGHT]" not in resp):
        return ERROR
    resp = resp.replace("\u2018", "'").replace("\u2019", "'")
    resp = answer_text(resp.replace("\u201c", '"').replace("\u201d", '"').strip())
    if resp.capitalize() == NIL or resp == "[Nil]":
        return NIL
    semi = resp.rfind(";")
    if semi == -1:
        return ERROR
    value, declared = resp[:semi].strip(), resp[semi + 1 :].strip().lower()
    if value.capitalize() == NIL:
        return NIL
    if len(declared) > MAX_TYPE_CHARS:
        return ERROR
    typ = _normalise_type(declared)
    if typ == "str":  # REval: ``eval`` the text, else the text itself is the string
        if _names_a_builtin(value):
            return ERROR  # REval's eval gives that builtin, never a str
        ok, v = rl.answer_value(value)
        return (v if ok else value), "str"
    if typ in ("datetime.datetime", "numpy.ndarray"):  # REval's order: these before None
        built = _build_qualified(value, typ)
        return ERROR if built is None else (built, type(built).__name__)
    if value == "None" or typ == "nonetype":
        return None, "NoneType"
    if typ == "collections.deque" or typ.startswith("numpy."):
        built = _build_qualified(value, typ)
        return ERROR if built is None else (built, type(built).__name__)
    ok, v = rl.answer_value(value)
    return (v, typ) if ok else ERROR


def _names_a_builtin(text: str) -> bool:
    import builtins

    return text.isidentifier() and not text.startswith("_") and hasattr(builtins, text)


_MAX_DATE_CHARS = 100


def _build_qualified(value: str, typ: str) -> Any:
    """REval's non-builtin types: dateutil for ``datetime.datetime``, ``np.array(v)`` for
    ``numpy.ndarray``, else ``T(v)`` falling back to ``T(text)`` for ``collections.deque`` and
    numpy's scalar classes (REval ``locate``s any class; no other module is imported here). None
    when that fails: the answer is an ERROR."""
    try:
        if typ == "datetime.datetime":
            if len(value) > _MAX_DATE_CHARS:
                return None
            from dateutil.parser import parse

            return parse(value)
        array = typ == "numpy.ndarray"
        if typ == "collections.deque":
            cls: Any = collections.deque
        else:
            import numpy as np

            cls = np.array if array else getattr(np, typ.removeprefix("numpy."), None)
            if not array and not (isinstance(cls, type) and issubclass(cls, np.generic)):
                return None  # numpy's scalar classes only (never a class that opens files)
        ok, v = rl.answer_value(value)
        if ok:
            return cls(v)
        return None if array or len(value) > _MAX_DATE_CHARS else cls(value)
    except Exception:  # noqa: BLE001 - REval: any failure to build the value is an ERROR
        return None


def parse_actual(text: str) -> Any:
    """The value a tracer repr stands for; ``ValueError`` when it has no literal form."""
    ok, value = rl.actual_value(text)
    if not ok:
        raise ValueError(f"no literal form: {text[:60]}")
    return value


def _actual_value(vs: VarState) -> tuple[bool, Any]:
    ok, value = rl.actual_value(vs.repr)
    return (True, value) if ok else (False, vs.repr)


def gold_state(vs: VarState) -> str:
    """A ``value; type`` answer REval accepts for this actual value (its repr where no form is known)."""
    parsed, v = _actual_value(vs)
    if parsed and vs.type == "datetime":
        return f"{v}; datetime.datetime"
    if parsed and vs.type == "ndarray":
        return f"{v.tolist()!r}; numpy.ndarray"
    if parsed and vs.type in rl.NUMPY_SCALARS:
        return f"{v.item()!r}; numpy.{vs.type}"
    if parsed and vs.type == "deque":
        return f"{list(v)!r}; collections.deque"
    return f"{vs.repr}; {vs.type}"


def state_equal(
    ans: tuple[Any, str] | str, actual: Sequence[VarState] | None, mode: str = "official"
) -> bool:
    """REval ``_eq`` over tracer values (``actual`` None = Nil). ``official``: the value is
    compared with every actual value (REval's ``in``); ``strict``: only with those of its type."""
    if ans == ERROR:
        return False
    if ans == NIL or actual is None:
        return ans == NIL and actual is None
    assert isinstance(ans, tuple)
    value, typ = ans
    if typ not in {a.type for a in actual} or type(value).__name__ != typ:
        return False
    return any(_matches(value, typ, a) for a in actual if a.type == typ or mode != "strict")


def _matches(value: Any, typ: str, actual: VarState) -> bool:
    parsed, v = _actual_value(actual)
    try:
        if typ == "float":
            return parsed and abs(value - v) < 1e-6
        if typ == "ndarray":
            import numpy as np

            return parsed and bool(np.allclose(value, v))
        return bool(value == v) if parsed else repr(value) == v
    except Exception:  # noqa: BLE001 - odd comparisons are a mismatch, never a crash
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
