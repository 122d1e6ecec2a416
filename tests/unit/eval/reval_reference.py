"""REval's reading of a state question, re-implemented from its behaviour for agreement tests.

``reval_values(states, line, var)`` follows REval ``dynamics.VarInterpreter`` over REval-style
states (``reval_states`` of ``tests/unit/execution/test_tracer_reval.py``: deep-copied locals per
merged state, run in this process): each sub-expression is the list of its values over the states
after the line, a subscript or tuple is the cross product of its parts' lists, failing subscripts
(TypeError / KeyError / IndexError) and missing attributes drop out, an empty list is Nil and so is
any index it cannot read. ``run_time_values`` is the expression evaluated within each of those
states (the diagonal): what stepcode's strict mode uses.
"""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "execution"))
from test_tracer_reval import reval_states  # noqa: E402

NIL = None
__all__ = ["NIL", "reval_states", "reval_values", "run_time_values", "value_set"]


def _after(states: list[dict], line: int) -> list[dict]:
    idx = [i for i, s in enumerate(states) if s["line"] == line]
    return [states[i + 1] if i + 1 < len(states) else states[i] for i in idx]


class _Nil(Exception):
    pass


def reval_values(states: list[dict], line: int, var: str) -> list | None:
    """REval ``States.interpret_var``: a list of values, or None for Nil."""
    if not any(s["line"] == line for s in states):
        return NIL
    after = _after(states, line)

    def values(node: ast.AST) -> list:
        if isinstance(node, ast.Constant):
            return [node.value]
        if isinstance(node, ast.Name):
            out = [s["locals"][node.id] for s in after if node.id in s["locals"]]
        elif isinstance(node, ast.Attribute):
            out = [getattr(o, node.attr) for o in values(node.value) if hasattr(o, node.attr)]
        elif isinstance(node, ast.Subscript):
            arrays, keys = values(node.value), values(node.slice)
            out = []
            for a, k in itertools.product(arrays, keys):
                try:
                    out.append(a[k])
                except (TypeError, KeyError, IndexError):
                    pass
        elif isinstance(node, ast.Tuple):
            out = list(itertools.product(*[values(e) for e in node.elts]))
        else:
            raise _Nil(type(node).__name__)
        if not out:
            raise _Nil("empty")
        return out

    try:
        return values(ast.parse(var, mode="eval").body)
    except Exception:  # noqa: BLE001 - REval: any failure reads as Nil
        return NIL


def run_time_values(states: list[dict], line: int, var: str) -> list | None:
    """``var`` evaluated in each state after ``line`` where it evaluates."""
    if not any(s["line"] == line for s in states):
        return NIL
    out = []
    for s in _after(states, line):
        try:
            out.append(eval(var, {}, dict(s["locals"])))  # noqa: S307 - benchmark data, tests only
        except Exception:  # noqa: BLE001 - absent in that state
            continue
    return out or NIL


def value_set(values: list | None) -> set[tuple[str, str]] | None:
    """(repr, type name) of each value: what stepcode's records hold."""
    return None if values is None else {(repr(v), type(v).__name__) for v in values}
