"""REval answer parsing and judging (re-implemented from the behaviour of r-eval/REval ``evaluation.py``).

* Coverage: upper-case, text between ``[ANSWER]``/``[/ANSWER]``, first 3 characters; YES xor NO,
  anything else (and CoT without ``[/THOUGHT]``) is NO.
* Path: first line of the answer; ``-1`` -> -1, empty -> -2; otherwise every line number whose
  stripped source equals it (none -> -2). Correct iff any of them is in Next(line).
* State: ``value; type`` split on the last ``;`` with REval's type normalisation. Values are parsed
  as literals plus calls of a few builtin constructors on literals (``set()``, ``float('inf')``,
  ``bytearray(b'a')``; ``_safe_eval``), never ``eval`` of arbitrary model text in our process; a
  value REval would accept only through other expressions is an ERROR here.
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
            v = _safe_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            v = value
        return v, "str"
    if value == "None" or typ == "nonetype":
        return None, "NoneType"
    if typ in _QUALIFIED:
        try:
            return _build_qualified(value, typ), _QUALIFIED[typ]
        except Exception:  # noqa: BLE001 - REval: any failure to build the value is an ERROR
            return ERROR
    try:
        return _safe_eval(value), typ
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ERROR


_CONSTRUCTORS = {f.__name__: f for f in (set, frozenset, bytearray, bytes, float, int, complex,
                                          tuple, list, dict, str, bool)}  # fmt: skip
_LITERAL_NODES = (ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Load,
                  ast.UnaryOp, ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub)  # fmt: skip
_MAX_SIZE_ARG = 1_000_000


def _extra_constructors() -> dict[str, Any]:
    """Reprs of the non-builtin values ClassEval programs produce (tracer side only)."""
    import collections
    import datetime

    out: dict[str, Any] = {"datetime.datetime": datetime.datetime, "deque": collections.deque}
    try:
        import numpy as np
    except ImportError:
        return out
    out["array"] = np.array
    for name in _NUMPY_SCALARS:
        out[f"np.{name}"] = getattr(np, name)
    return out


_NUMPY_SCALARS = ("float64", "float32", "int64", "int32", "bool_")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _safe_eval(text: str, extra: bool = False) -> Any:
    """A Python literal, where calls of builtin constructors (``_CONSTRUCTORS``, positional literal
    arguments, sizes <= 1e6) may stand for values that have no literal (``set()``); ``extra`` also
    allows ``_extra_constructors`` (tracer reprs). Raises ``ValueError`` for anything else."""
    if len(text) > 100_000:
        raise ValueError("too long")
    tree = ast.parse(text.strip(), mode="eval")
    names = dict(_CONSTRUCTORS)
    if extra:
        extras = _extra_constructors()
        for node in ast.walk(tree):
            dotted = _dotted(node.func) if isinstance(node, ast.Call) else None
            if dotted in extras:
                alias = f"_c{len(names)}"
                names[alias] = extras[dotted]
                node.func = ast.copy_location(ast.Name(id=alias, ctx=ast.Load()), node.func)
    has_call = any(isinstance(n, ast.Call) for n in ast.walk(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in names) or node.keywords:
                raise ValueError("call")
        elif isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError("name")
        elif isinstance(node, ast.Constant):
            big = isinstance(node.value, int) and abs(node.value) > _MAX_SIZE_ARG
            if big and has_call:  # bytearray(10**12): refuse sizes, not literals
                raise ValueError("size")
        elif not isinstance(node, _LITERAL_NODES):
            raise ValueError(type(node).__name__)
    if not has_call:
        return ast.literal_eval(tree)
    return eval(compile(tree, "<answer>", "eval"), {"__builtins__": names})  # noqa: S307 - checked above


_QUALIFIED = {"datetime.datetime": "datetime", "numpy.ndarray": "ndarray",
              "collections.deque": "deque"} | {f"numpy.{n}": n for n in _NUMPY_SCALARS}  # fmt: skip
"""declared types (lower-cased, as REval reads them) that REval's ``locate`` resolves to a
non-builtin class it can build: declared name -> the class's ``__name__``"""


def _build_qualified(value: str, typ: str) -> Any:
    """REval's ad-hoc cases: dateutil for datetimes, ``np.array(eval(v))``, ``T(eval(v))`` falling
    back to ``T(v)``. Raises on failure (the answer is an ERROR)."""
    if typ == "datetime.datetime":
        from dateutil.parser import parse

        return parse(value)
    if typ.startswith("numpy."):
        import numpy as np

        if typ == "numpy.ndarray":
            return np.array(_safe_eval(value))
        cls = getattr(np, typ.split(".")[1])
    else:
        import collections

        cls = collections.deque
    try:
        return cls(_safe_eval(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return cls(value)


def parse_actual(text: str) -> Any:
    """The value a tracer repr stands for; ``ValueError`` when it has no literal form."""
    try:
        return _safe_eval(text, extra=True)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise ValueError(str(e)) from None


def _actual_value(vs: VarState) -> tuple[bool, Any]:
    try:
        return True, parse_actual(vs.repr)
    except ValueError:
        return False, vs.repr


def gold_state(vs: VarState) -> str:
    """A ``value; type`` answer REval accepts for this actual value (its repr where no form is known)."""
    parsed, v = _actual_value(vs)
    if parsed and vs.type == "datetime":
        return f"{v}; datetime.datetime"
    if parsed and vs.type == "ndarray":
        return f"{v.tolist()!r}; numpy.ndarray"
    if parsed and vs.type in _NUMPY_SCALARS:
        return f"{v.item()!r}; numpy.{vs.type}"
    if parsed and vs.type == "deque":
        return f"{list(v)!r}; collections.deque"
    return f"{vs.repr}; {vs.type}"


def state_equal(ans: tuple[Any, str] | str, actual: Sequence[VarState] | None,
                mode: str = "official") -> bool:  # fmt: skip
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
        if a.type != typ and mode == "strict":
            continue
        parsed, v = _actual_value(a)
        try:
            if typ == "float" and parsed and abs(value - v) < 1e-6:
                return True
            if parsed and typ == "ndarray":
                import numpy as np

                if np.allclose(value, v):
                    return True
                continue
            if parsed and typ != "float" and bool(value == v):
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
