"""Predictions are values, not code: the one parser every judge uses.

* ``parse_value(text, *, names=frozenset(), constants=None) -> ValueParse``: an output
  prediction, a trace-step value, a white-box or REval answer, a value brought back from a run.
* ``parse_call(call_text, entry, *, names=..., constants=...) -> CallParse``: an input prediction,
  exactly one call ``entry(<values>)``.
* ``program_names(code)`` / ``program_constants(code)``: what a trusted program lets a prediction
  name (below); ``parse_value_for(code, text)`` / ``parse_call_for(code, call_text, entry)`` pass
  them (scanning the program only when the text names something).
* ``serialize(value, budget)``: the canonical text of a value.

Model text never runs. It is parsed (``ast.parse``, after a length check) and walked by a small
evaluator that knows only the forms below; every other node is refused. The value is built here,
on the trusted side, and what goes into a check is its canonical re-serialisation
(``ValueParse.text``), never the model's text. Never raises.

Accepted forms
    * literals: ``int float complex str bytes bool None``, ``-x``/``+x`` on a number, ``1+2j``;
      ``[..]``, ``(..)``, ``{..}``, ``{k: v}`` displays (no ``*``/``**`` unpacking);
    * constructors: ``set()``, ``set(v)``, ``frozenset()``, ``frozenset(v)``, ``dict()``,
      ``dict(k=v, ...)``, ``range(a[, b[, c]])``, ``float('inf' | '-inf' | 'nan' | <number>)``;
    * ``s + s`` and ``s * n`` for ``s`` a str, bytes, list or tuple value and ``n`` an int;
    * on a str value: ``.join(v)``, ``.split([sep[, maxsplit]])``, ``.upper()``;
    * slicing ``v[a:b:c]`` of a str, bytes, list or tuple value with int or empty bounds;
    * a name the trusted program binds at module level by ``def``, ``class`` or ``import`` and
      nowhere else (``program_names``): passed as is, never called, subscripted or attribute-read;
    * a module-level constant ``NAME = <value>`` whose name the program uses nowhere else, and
      that has no ``globals``/``vars``/``eval``/``exec``/``sys`` (``program_constants``): replaced
      by its value (the name never reaches a check);
    * a lambda of plain parameters whose body is one comparison of parameters and values
      (``lambda x: x < 2``) or one public method call on a parameter with value arguments
      (``lambda x: x.reverse()``; not ``format``/``format_map``).
    A value holding a program name or a lambda exists only where the program runs:
    ``ValueParse.needs_program`` is True and ``value`` is None.

Refused: any other name (builtins, the entry point, ``__import__``, names assigned at module
level and used elsewhere), attributes, subscripts, calls, comprehensions and generators,
walrus, starred, ``**``, f-strings, operators other than the above (``**``, ``<<``, ``and``,
``if``), and ``...``.

Why exactly these (measured: every gold answer parsed with this module, kept true by
``tests/unit/rewards/test_values.py::test_gold_answers_are_values``): CRUXEval's 800 outputs and
the 8 LiveCodeBench execution items in ``tests/fixtures`` (inputs and outputs) are plain
literals. 788 of CRUXEval's 800 inputs are plain literals; the other 12 need ``dict()``
(sample_459), ``dict(k=v)`` (378, 694, 760), ``range(100, 120)`` (522), ``''.join(['A'] * 20)``
(152), ``'...'.split('-')`` (720), ``'$78'.upper()`` (770), ``'st ' + '0\\t\\n  '`` (239),
``thigh_o_two[:]`` of a module-level list (258), ``lambda x: x.reverse()`` (344) and ``lambda x:
x < 2`` (364). ``set()``, ``frozenset(..)`` and ``float('inf')`` are what the canonical form
writes for values that have no literal. (REval's HumanEval inputs also hold integer arithmetic,
``(3 * 19,)``, ``[-0, 1 ** 0]``; those are trusted program inputs, not predictions, and ``**`` is
exactly the ``10**10**10`` bomb: not accepted.)

Bounds, checked before anything is built: text length (``MAX_TEXT_CHARS``), nesting depth
(``MAX_DEPTH``), syntax nodes (``MAX_NODES``) and the size of every value built (``MAX_SIZE``
characters of its canonical text, checked before ``*``, ``join`` or ``set(range(..))`` run), so
``'a' * 10**9``, ``10**10**10``, ``[[[...]]]`` and long ``bytes`` sums are refused cheaply.

Reasons (``ValueParse.reason``): ``ok``, ``empty``, ``too_long``, ``syntax_error``,
``too_deep``, ``too_large``, ``not_a_value`` (a form outside the list), ``unknown_name``;
``parse_call`` adds ``not_a_call``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from stepcode.rewards import _grammar as _g
from stepcode.rewards._grammar import (
    MAX_CONSTANT_CHARS,
    MAX_DEPTH,
    MAX_NODES,
    MAX_SIZE,
    MAX_TEXT_CHARS,
    serialize,
)

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_SIZE", "MAX_TEXT_CHARS", "CallParse", "ValueParse",
           "parse_call", "parse_call_for", "parse_value", "parse_value_for", "program_constants",
           "program_names", "serialize"]  # fmt: skip
_DYNAMIC_SCOPE = frozenset(("globals", "vars", "locals", "eval", "exec", "sys", "__import__",
                            "setattr", "delattr", "getattr", "__dict__", "f_globals"))  # fmt: skip


@dataclass(frozen=True)
class ValueParse:
    """A parsed value: ``text`` is the canonical re-serialisation, safe to put into a check."""

    ok: bool
    text: str = ""
    reason: str = "ok"
    value: object = None
    """the value itself (built here) when ``ok`` and not ``needs_program``"""
    needs_program: bool = False
    """the value names the program or holds a lambda: it can only be built where the program runs"""


@dataclass(frozen=True)
class CallParse:
    """A parsed call ``entry(<args>)``: ``args_text`` is the canonical argument list."""

    ok: bool
    args_text: str = ""
    reason: str = "ok"
    needs_program: bool = False
    """an argument names the program or is a lambda (``ValueParse.needs_program``)"""


def parse_value(
    text: str, *, names: frozenset[str] = frozenset(), constants: Mapping[str, str] | None = None
) -> ValueParse:
    """Parse one value (module docstring). Never raises.

    Example:
        >>> parse_value("[1,  'a',(2,)]").text, parse_value("''.join(['A'] * 3)").value
        ("[1, 'a', (2,)]", 'AAA')
        >>> parse_value("f(3)").reason, parse_value("'a' * 10**9").reason
        ('not_a_value', 'not_a_value')
    """
    try:
        node = _g.parse_tree(text, "eval")
        return _finish(_g.Builder(names, constants or {}).value(node, 0))
    except Exception as e:  # noqa: BLE001 - model text must never crash a judge
        return ValueParse(ok=False, reason=_reason(e))


def parse_call(
    call_text: str,
    entry: str,
    *,
    names: frozenset[str] = frozenset(),
    constants: Mapping[str, str] | None = None,
) -> CallParse:
    """Parse exactly one call ``entry(<values>)`` (keywords allowed; never raises).

    Example:
        >>> parse_call("f( 1 ,x=[2,3] )", "f").args_text
        '1, x=[2, 3]'
        >>> parse_call("f(1) or True", "f").reason, parse_call("f(g.x)", "f").reason
        ('not_a_call', 'not_a_value')
    """
    try:
        node = _g.parse_tree(call_text.strip() if isinstance(call_text, str) else call_text, "eval")
    except _g.Refused as r:
        return CallParse(ok=False, reason="not_a_call" if r.reason == "syntax_error" else r.reason)
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry
    ):
        return CallParse(ok=False, reason="not_a_call")
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        return CallParse(ok=False, reason="not_a_value")
    builder = _g.Builder(names - {entry}, constants or {})
    try:
        built = [builder.value(a, 1) for a in node.args]
        named = [(k.arg, builder.value(k.value, 1)) for k in node.keywords]
        parts = [_g.text_of(b) for b in built] + [f"{k}={_g.text_of(b)}" for k, b in named]
    except Exception as e:  # noqa: BLE001 - model text must never crash a judge
        return CallParse(ok=False, reason=_reason(e))
    code = any(isinstance(b[0], _g.Code) for b in [*built, *(b for _, b in named)])
    return CallParse(ok=True, args_text=", ".join(parts), needs_program=code)


def _reason(e: Exception) -> str:
    if isinstance(e, _g.Refused):
        return e.reason
    return (
        "too_large"
        if isinstance(e, RecursionError | MemoryError | OverflowError)
        else "not_a_value"
    )


def _finish(built: tuple[object, int]) -> ValueParse:
    value, _ = built
    if isinstance(value, _g.Code):
        return ValueParse(ok=True, text=value.text, needs_program=True)
    return ValueParse(ok=True, text=_g.text_of(built), value=value)


def parse_value_for(code: str, text: str) -> ValueParse:
    """``parse_value`` with the names and constants the trusted program ``code`` allows (the
    program is scanned only when ``text`` names something)."""
    got = parse_value(text)
    if got.reason != "unknown_name":
        return got
    return parse_value(text, names=program_names(code), constants=program_constants(code))


def parse_call_for(code: str, call_text: str, entry: str) -> CallParse:
    """``parse_call`` with the names and constants the trusted program ``code`` allows."""
    got = parse_call(call_text, entry)
    if got.reason != "unknown_name":
        return got
    names, constants = program_names(code), program_constants(code)
    return parse_call(call_text, entry, names=names, constants=constants)


def program_names(code: str) -> frozenset[str]:
    """Names bound at module level by ``def``/``class``/``import`` and bound nowhere else (never a
    dunder, never a constructor name such as ``set``).

    Example:
        >>> sorted(program_names("import math\\nX = g\\ndef f(x):\\n    return x\\nclass C: pass"))
        ['C', 'f', 'math']
    """
    return _scope(code)[0]


def program_constants(code: str) -> Mapping[str, str]:
    """``NAME -> canonical text`` for module-level ``NAME = <value>`` the program uses nowhere
    else (so nothing can change it before the call); empty when the program reaches its own
    namespace dynamically (``globals``, ``vars``, ``eval``, ``exec``, ``sys``, ``import *``, ...).

    Example:
        >>> dict(program_constants("A = [1, 2]\\nB = 3\\ndef f(x):\\n    return x + B\\n"))
        {'A': '[1, 2]'}
    """
    return _scope(code)[1]


@functools.lru_cache(maxsize=512)
def _scope(code: str) -> tuple[frozenset[str], Mapping[str, str]]:
    """(program names, program constants) from one walk of the program."""
    tree = _program_tree(code)
    if tree is None:
        return frozenset(), MappingProxyType({})
    bound: dict[str, int] = {}  # binding occurrences (def, import, assignment, parameter, ...)
    used: dict[str, int] = {}  # every occurrence
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute):  # ``mod.X`` may reach a global X too
            key = node.id if isinstance(node, ast.Name) else node.attr
            used[key] = used.get(key, 0) + 1
        dynamic = dynamic or _reaches_own_namespace(node)
        for name in _bindings(node):
            bound[name] = bound.get(name, 0) + 1
            if not isinstance(node, ast.Name):
                used[name] = used.get(name, 0) + 1
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(_import_names(node))
    allowed = frozenset(
        n
        for n in names
        if bound.get(n) == 1 and not n.startswith("__") and n not in _g.CONSTRUCTORS
    )
    if dynamic or _DYNAMIC_SCOPE & used.keys():
        return allowed, MappingProxyType({})
    return allowed, MappingProxyType(_constants(tree, used))


def _reaches_own_namespace(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_SCOPE) or (
        isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
    )


def _constants(tree: ast.Module, used: dict[str, int]) -> dict[str, str]:
    out = {}
    for node in tree.body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.simple and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and used.get(target.id) == 1 and value is not None:
            try:
                text = _g.text_of(_g.Builder(frozenset(), {}).value(value, 0))
            except (_g.Refused, RecursionError, MemoryError, OverflowError):
                continue
            if len(text) <= MAX_CONSTANT_CHARS:
                out[target.id] = text
    return out


def _program_tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        return None


def _import_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"]


def _bindings(node: ast.AST) -> list[str]:
    """Names ``node`` binds (or declares global/nonlocal) in whatever scope it is in."""
    match node:
        case ast.Name(ctx=ast.Store() | ast.Del(), id=name):
            return [name]
        case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name) | ast.ClassDef(name=name):
            return [name]
        case ast.Import() | ast.ImportFrom():
            return _import_names(node)  # type: ignore[arg-type]
        case ast.Global(names=names) | ast.Nonlocal(names=names):
            return list(names)
        case ast.ExceptHandler(name=str() as name) | ast.MatchAs(name=str() as name):
            return [name]
        case ast.MatchStar(name=str() as name):
            return [name]
        case ast.arg(arg=name):
            return [name]
    return []
