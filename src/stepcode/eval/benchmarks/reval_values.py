"""The actual values a REval state question asks about, in the official and the strict reading.

A question names an expression (``distance``, ``self.radius``, ``frq[i]``, ``(start, end)``,
``self.items[item]['quantity']``) and a line; the answer is judged against the expression's values
"after" each time the line ran (REval ``get_states_after``: the next recorded state).

* ``official``: REval's ``VarInterpreter`` (re-implemented from its behaviour): every sub-expression
  is a list of values over those states and a subscript or tuple takes the *cross product* of its
  parts' lists, so on a line that runs several times ``frq[i]`` also holds ``frq`` of one
  iteration indexed by ``i`` of another. A failing subscript (``TypeError`` / ``KeyError`` /
  ``IndexError``) drops that combination, a missing attribute drops that object, an empty list
  anywhere is ``Nil``, and an index REval cannot read (a slice, ``i - 1``) makes the whole
  question ``Nil``.
* ``strict``: the expression evaluated within each state (the diagonal of that product): the
  values it really had at run time.

Names are read from the states' locals; attribute chains (``self.types``) are evaluated in the
frame by the tracer (``watch_expressions``); subscripts over several states are computed here from
the values the tracer's reprs parse to (``rewards.values.parse_value``: literals only, bounded).
Where a part has no literal form (an object, a repr cut at the tracer's bound) the official product
cannot be built here and the question falls back to the strict values (``Values.exact`` False,
counted in the summary).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stepcode.types import Trace, VarState

ValueMode = Literal["official", "strict"]
MAX_PRODUCT = 100_000
"""combinations one question may build (of distinct values); beyond it the strict values stand in"""
_NOT_PARSED = object()


@dataclass(frozen=True)
class Values:
    """The actual values of one question: ``values`` None is REval's ``Nil``."""

    values: tuple[VarState, ...] | None
    exact: bool = True
    """False where the official product could not be built and the strict values stand in"""


@dataclass(frozen=True)
class _Cell:
    state: VarState
    value: Any = _NOT_PARSED


class _NoLiteral(Exception):
    """A part of the product has no literal form here (or the product is too large)."""


def watch_expressions(var: str) -> set[str]:
    """The expressions the tracer must evaluate in the frame for ``var``: the whole expression
    (strict values) and every attribute chain inside it (``self.types`` in ``self.types[arg]``).
    Plain names are read from the locals, as REval reads them."""
    try:
        tree = ast.parse(var, mode="eval").body
    except SyntaxError:
        return set()
    out = set() if isinstance(tree, ast.Name) else {var}
    out |= {ast.unparse(n) for n in ast.walk(tree) if _dotted(n)}
    return out


def question_values(
    trace: Trace,
    line: int,
    var: str,
    mode: ValueMode,
    parse: Callable[[str], Any],
) -> Values:
    """``var``'s values after each run of ``line`` (``parse(repr)`` returns a value or raises
    ``ValueError``: how reprs become values for the product)."""
    from stepcode.execution import coverage, states_after

    if line not in coverage(trace):
        return Values(None)
    after = states_after(trace, line)
    strict = _strict(after, var)
    if mode == "strict":
        return Values(strict)
    try:
        node = ast.parse(var, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Values(None)
    if not _interpretable(node):
        return Values(None)  # REval: an index it cannot read (a slice, ``i - 1``) is Nil
    try:
        cells = _Interpreter(after, parse).values(node)
    except _NoLiteral:  # one state: the product is that state's value, the strict one
        return Values(strict, exact=len(after) <= 1)
    except (RecursionError, MemoryError):
        return Values(strict, exact=False)
    return Values(None if not cells else tuple(c.state for c in cells))


def _interpretable(node: ast.AST) -> bool:
    """The forms REval's ``VarInterpreter`` reads: constants, names, attributes, subscripts whose
    index is one of these, tuples of these."""
    if isinstance(node, ast.Constant | ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _interpretable(node.value)
    if isinstance(node, ast.Subscript):
        return _interpretable(node.value) and _interpretable(node.slice)
    if isinstance(node, ast.Tuple):
        return all(_interpretable(e) for e in node.elts)
    return False


def _strict(after: Sequence[Mapping[str, VarState]], var: str) -> tuple[VarState, ...] | None:
    found = tuple(s[var] for s in after if var in s)
    return found or None


def _dotted(node: ast.AST) -> bool:
    """``a.b`` / ``a.b.c``: an attribute chain on a plain name."""
    while isinstance(node, ast.Attribute):
        node = node.value
        if isinstance(node, ast.Name):
            return True
    return False


class _Interpreter:
    """REval's per-node lists; ``values(node)`` is [] for ``Nil``."""

    def __init__(self, after: Sequence[Mapping[str, VarState]], parse: Callable[[str], Any]):
        self.after = after
        self.parse = parse

    def values(self, node: ast.AST) -> list[_Cell]:
        if isinstance(node, ast.Constant):
            return [_Cell(_state(node.value), node.value)]
        if isinstance(node, ast.Name) or _dotted(node):
            key = node.id if isinstance(node, ast.Name) else ast.unparse(node)
            return _distinct(_Cell(s[key]) for s in self.after if key in s)
        if isinstance(node, ast.Subscript):
            return _distinct(self._subscript(node))
        if isinstance(node, ast.Attribute):  # on a computed object: not in REval's data
            raise _NoLiteral(ast.unparse(node))
        if isinstance(node, ast.Tuple):
            parts = [self.values(e) for e in node.elts]
            if any(not p for p in parts):
                return []
            _bound(parts)
            return [_tuple_cell(combo) for combo in itertools.product(*parts)]
        raise _NoLiteral(type(node).__name__)  # not reached: ``_interpretable`` comes first

    def _subscript(self, node: ast.Subscript) -> list[_Cell]:
        arrays, keys = self.values(node.value), self.values(node.slice)
        if not arrays or not keys:
            return []
        _bound([arrays, keys])
        out = []
        for a, k in itertools.product(arrays, keys):
            container, key = self._value(a), self._value(k)
            try:
                item = container[key]
            except (TypeError, KeyError, IndexError):
                continue
            out.append(_Cell(_state(item), item))
        return out

    def _value(self, cell: _Cell) -> Any:
        if cell.value is not _NOT_PARSED:
            return cell.value
        try:
            return self.parse(cell.state.repr)
        except ValueError:
            raise _NoLiteral(cell.state.repr) from None


def _distinct(cells: Iterable[_Cell]) -> list[_Cell]:
    """One cell per distinct (repr, type): a verdict depends on the set of values only."""
    return list({(c.state.repr, c.state.type): c for c in cells}.values())


def _bound(parts: Sequence[Sequence[_Cell]]) -> None:
    size = 1
    for p in parts:
        size *= len(p)
    if size > MAX_PRODUCT:
        raise _NoLiteral(f"{size} combinations")


def _state(value: Any) -> VarState:
    return VarState(repr=repr(value), type=type(value).__name__)


def _tuple_cell(parts: Iterable[_Cell]) -> _Cell:
    parts = tuple(parts)
    reprs = [p.state.repr for p in parts]
    text = "(" + ", ".join(reprs) + ("," if len(reprs) == 1 else "") + ")"
    parsed = all(p.value is not _NOT_PARSED for p in parts)
    return _Cell(
        VarState(repr=text, type="tuple"), tuple(p.value for p in parts) if parsed else _NOT_PARSED
    )
