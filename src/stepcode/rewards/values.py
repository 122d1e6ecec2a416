"""Predictions are values, not code: the one parser every judge uses.

* ``parse_value(text, *, names=frozenset(), constants=None) -> ValueParse``: an output
  prediction, a trace-step value, a white-box or REval answer, a value brought back from a run.
* ``parse_call(call_text, entry, *, names=..., constants=...) -> CallParse``: an input prediction,
  exactly one call ``entry(<values>)``.
* ``program_names(code)`` / ``program_constants(code)``: what a trusted program lets a prediction
  name (below).
* ``serialize(value, budget)``: the canonical text of a value (builtins only; it is also what
  turns a program's result into text inside the sandbox).

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

Why exactly these (measured with ``benchmarks``-style scans of every gold answer): CRUXEval's
800 outputs, the 8 LiveCodeBench execution items in ``tests/fixtures`` and REval's 154 programs'
inputs and outputs are plain literals. 788 of CRUXEval's 800 inputs are plain literals; the other
12 need ``dict()`` (sample_459), ``dict(k=v)`` (378, 694, 760), ``range(100, 120)`` (522),
``''.join(['A'] * 20)`` (152), ``'...'.split('-')`` (720), ``'$78'.upper()`` (770),
``'st ' + '0\\t\\n  '`` (239), ``thigh_o_two[:]`` of a module-level list (258), ``lambda x:
x.reverse()`` (344) and ``lambda x: x < 2`` (364). ``set()``, ``frozenset(..)`` and
``float('inf')`` are what the canonical form writes for values that have no literal.

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
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

MAX_TEXT_CHARS = 50_000
MAX_DEPTH = 100
MAX_NODES = 20_000
MAX_SIZE = 100_000
MAX_CONSTANT_CHARS = 10_000
_STR_METHODS = frozenset(("join", "split", "upper"))
_LAMBDA_DENIED_METHODS = frozenset(("format", "format_map"))
_CONSTRUCTORS = frozenset(("set", "frozenset", "dict", "range", "float"))
_DYNAMIC_SCOPE = frozenset(("globals", "vars", "locals", "eval", "exec", "sys", "__import__",
                            "setattr", "delattr", "getattr", "__dict__", "f_globals"))  # fmt: skip
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}  # fmt: skip


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


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(frozen=True)
class _Code:
    """A value that exists only where the program runs (a program name, a lambda, or a display
    holding one): its canonical text."""

    text: str


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
        node = _parse(text, "eval")
        return _finish(_Builder(names, constants or {}).value(node, 0))
    except _Refused as r:
        return ValueParse(ok=False, reason=r.reason)
    except (RecursionError, MemoryError, OverflowError):
        return ValueParse(ok=False, reason="too_large")
    except Exception:  # noqa: BLE001 - model text must never crash a judge
        return ValueParse(ok=False, reason="not_a_value")


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
        node = _parse(call_text.strip() if isinstance(call_text, str) else call_text, "eval")
    except _Refused as r:
        return CallParse(ok=False, reason="not_a_call" if r.reason == "syntax_error" else r.reason)
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry
    ):
        return CallParse(ok=False, reason="not_a_call")
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        return CallParse(ok=False, reason="not_a_value")
    builder = _Builder(names - {entry}, constants or {})
    try:
        parts = [_text(builder.value(a, 1)) for a in node.args]
        parts += [f"{k.arg}={_text(builder.value(k.value, 1))}" for k in node.keywords]
    except _Refused as r:
        return CallParse(ok=False, reason=r.reason)
    except (RecursionError, MemoryError, OverflowError):
        return CallParse(ok=False, reason="too_large")
    except Exception:  # noqa: BLE001 - model text must never crash a judge
        return CallParse(ok=False, reason="not_a_value")
    return CallParse(ok=True, args_text=", ".join(parts))


def _parse(text: object, mode: str) -> ast.AST:
    if not isinstance(text, str):
        raise _Refused("not_a_value")
    if len(text) > MAX_TEXT_CHARS:
        raise _Refused("too_long")
    if not text.strip():
        raise _Refused("empty")
    try:
        tree = ast.parse(text.strip(), mode=mode)
    except (SyntaxError, ValueError):
        raise _Refused("syntax_error") from None
    except (RecursionError, MemoryError):
        raise _Refused("too_deep") from None
    return tree.body  # type: ignore[attr-defined]


def _finish(built: tuple[object, int]) -> ValueParse:
    value, _ = built
    if isinstance(value, _Code):
        return ValueParse(ok=True, text=value.text, needs_program=True)
    return ValueParse(ok=True, text=_text(built), value=value)


def _text(built: tuple[object, int]) -> str:
    value = built[0]
    if isinstance(value, _Code):
        return value.text
    text = serialize(value, 4 * MAX_SIZE)
    if text is None:  # e.g. a complex with an infinite part: no canonical text
        raise _Refused("not_a_value")
    return text


class _Builder:
    """Walks a syntax tree of the accepted forms and builds the value, with its size."""

    def __init__(self, names: frozenset[str], constants: Mapping[str, str]) -> None:
        self.names = names
        self.constants = constants
        self.nodes = 0
        self.size = 0
        self.resolved: dict[str, tuple[object, int]] = {}

    def value(self, node: ast.AST, depth: int) -> tuple[object, int]:
        """(value or ``_Code``, size in canonical-text characters)."""
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise _Refused("too_deep")
        if self.nodes > MAX_NODES:
            raise _Refused("too_large")
        built = self._build(node, depth + 1)
        self.size += built[1]
        if built[1] > MAX_SIZE or self.size > 4 * MAX_SIZE:
            raise _Refused("too_large")
        return built

    def _build(self, node: ast.AST, depth: int) -> tuple[object, int]:
        match node:
            case ast.Constant(value=v) if v is not Ellipsis:
                return v, len(v) + 3 if isinstance(v, str | bytes) else len(repr(v))
            case ast.UnaryOp(op=ast.USub() | ast.UAdd() as op, operand=operand):
                v, n = self.value(operand, depth)
                if type(v) not in (int, float, complex):
                    raise _Refused("not_a_value")
                return (-v if isinstance(op, ast.USub) else +v), n + 1
            case ast.BinOp(op=ast.Add() | ast.Sub() | ast.Mult() as op, left=left, right=right):
                return self._binop(op, self.value(left, depth), self.value(right, depth))
            case ast.List(elts=elts) | ast.Tuple(elts=elts) | ast.Set(elts=elts):
                kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
                return self._display(kind, [self.value(e, depth) for e in elts])
            case ast.Dict(keys=keys, values=vals) if None not in keys:
                pairs = [
                    (self.value(k, depth), self.value(v, depth))  # type: ignore[arg-type]
                    for k, v in zip(keys, vals, strict=True)
                ]
                return self._dict(pairs)
            case ast.Name(id=name):
                return self._name(name)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=kws) if name in _CONSTRUCTORS:
                return self._construct(name, args, kws, depth)
            case ast.Call(func=ast.Attribute(value=recv, attr=attr), args=args, keywords=kws) if (
                attr in _STR_METHODS
            ):
                return self._str_method(self.value(recv, depth), attr, args, kws, depth)
            case ast.Subscript(value=target, slice=ast.Slice() as sl):
                return self._slice(self.value(target, depth), sl, depth)
            case ast.Lambda():
                text = self._lambda(node, depth)
                return _Code(text), len(text)
        raise _Refused("not_a_value")

    # ------------------------------------------------------------------ forms
    def _binop(self, op: ast.operator, left: tuple, right: tuple) -> tuple[object, int]:
        (a, n), (b, m) = left, right
        ta, tb = type(a), type(b)
        if isinstance(op, ast.Mult):
            if ta is int and tb in (str, bytes, list, tuple):
                (a, n), (b, m), ta, tb = right, left, tb, ta
            if ta not in (str, bytes, list, tuple) or tb is not int:
                raise _Refused("not_a_value")
            if b <= 0:
                return a[:0], 3
            if n * b > MAX_SIZE:
                raise _Refused("too_large")
            return a * b, n * b
        if ta is tb and ta in (str, bytes, list, tuple) and isinstance(op, ast.Add):
            if n + m > MAX_SIZE:
                raise _Refused("too_large")
            return a + b, n + m
        # complex literals: a real number plus or minus an imaginary one (``1+2j``, ``-1-0.5j``)
        if ta in (int, float) and tb is complex and b.real == 0:
            return (a + b if isinstance(op, ast.Add) else a - b), n + m + 3
        raise _Refused("not_a_value")

    def _display(self, kind: type, items: list[tuple[object, int]]) -> tuple[object, int]:
        size = 2 + sum(n + 2 for _, n in items)
        if any(isinstance(v, _Code) for v, _ in items):
            texts = [_text(i) for i in items]
            if kind is list:
                return _Code("[" + ", ".join(texts) + "]"), size
            if kind is tuple:
                return _Code("(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"), size
            return _Code("{" + ", ".join(texts) + "}"), size
        values = [v for v, _ in items]
        if kind is set:
            _check_hashable(values)
        return kind(values), size

    def _dict(self, pairs: list[tuple[tuple, tuple]]) -> tuple[object, int]:
        size = 2 + sum(k[1] + v[1] + 4 for k, v in pairs)
        if any(isinstance(k[0], _Code) or isinstance(v[0], _Code) for k, v in pairs):
            body = ", ".join(f"{_text(k)}: {_text(v)}" for k, v in pairs)
            return _Code("{" + body + "}"), size
        _check_hashable([k[0] for k, _ in pairs])
        return {k[0]: v[0] for k, v in pairs}, size

    def _name(self, name: str) -> tuple[object, int]:
        if name in self.constants:
            if name not in self.resolved:  # parsed once per prediction, however often it is named
                built = _Builder(frozenset(), {}).value(_parse(self.constants[name], "eval"), 0)
                if isinstance(built[0], _Code):
                    raise _Refused("not_a_value")
                self.resolved[name] = built
            return self.resolved[name]
        if name in self.names and not name.startswith("__"):
            return _Code(name), len(name)
        raise _Refused("unknown_name")

    def _plain_args(self, args: list, kws: list, depth: int) -> tuple[list, dict]:
        if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in kws):
            raise _Refused("not_a_value")
        pos = [self.value(a, depth) for a in args]
        named = {k.arg: self.value(k.value, depth) for k in kws}
        if any(isinstance(v, _Code) for v, _ in [*pos, *named.values()]):
            raise _Refused("not_a_value")  # constructors and methods take plain values only
        return [v for v, _ in pos], {k: v for k, (v, _) in named.items()}

    def _construct(self, name: str, args: list, kws: list, depth: int) -> tuple[object, int]:
        pos, named = self._plain_args(args, kws, depth)
        if name == "dict" and not pos:
            return dict(named), 2 + sum(len(k) + 8 + _size(v) for k, v in named.items())
        if name in ("set", "frozenset") and not named and len(pos) <= 1:
            items = list(_iter_value(pos[0])) if pos else []
            _check_hashable(items)
            return (set if name == "set" else frozenset)(items), 12 + sum(
                _size(v) + 2 for v in items
            )
        if (
            name == "range"
            and not named
            and 1 <= len(pos) <= 3
            and all(type(v) is int for v in pos)
        ):
            if len(pos) == 3 and pos[2] == 0:
                raise _Refused("not_a_value")
            return range(*pos), 10 + sum(len(repr(v)) for v in pos)
        if (
            name == "float"
            and not named
            and len(pos) == 1
            and type(pos[0]) is str
            and len(pos[0]) <= 64
        ):
            try:
                return float(pos[0]), 14
            except ValueError:
                raise _Refused("not_a_value") from None
        raise _Refused("not_a_value")

    def _str_method(
        self, recv: tuple, attr: str, args: list, kws: list, depth: int
    ) -> tuple[object, int]:
        s, n = recv
        if type(s) is not str:
            raise _Refused("not_a_value")
        pos, named = self._plain_args(args, kws, depth)
        if attr == "upper" and not pos and not named:
            return s.upper(), 3 * n
        if attr == "join" and len(pos) == 1 and not named:
            items = list(_iter_value(pos[0]))
            if not all(type(i) is str for i in items):
                raise _Refused("not_a_value")
            size = sum(len(i) for i in items) + len(s) * max(0, len(items) - 1) + 3
            if size > MAX_SIZE:
                raise _Refused("too_large")
            return s.join(items), size
        if attr == "split" and len(pos) + len(named) <= 2 and set(named) <= {"sep", "maxsplit"}:
            params = dict(zip(("sep", "maxsplit"), pos, strict=False)) | named
            sep, maxsplit = params.get("sep"), params.get("maxsplit", -1)
            if (sep is not None and type(sep) is not str) or sep == "" or type(maxsplit) is not int:
                raise _Refused("not_a_value")
            parts = s.split(sep, maxsplit)
            return parts, 2 + sum(len(p) + 5 for p in parts)
        raise _Refused("not_a_value")

    def _slice(self, target: tuple, sl: ast.Slice, depth: int) -> tuple[object, int]:
        seq, n = target
        if type(seq) not in (str, bytes, list, tuple):
            raise _Refused("not_a_value")
        bounds = []
        for part in (sl.lower, sl.upper, sl.step):
            v = None if part is None else self.value(part, depth)[0]
            if v is not None and type(v) is not int:
                raise _Refused("not_a_value")
            bounds.append(v)
        if bounds[2] == 0:
            raise _Refused("not_a_value")
        return seq[slice(*bounds)], n

    def _lambda(self, node: ast.Lambda, depth: int) -> str:
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.kw_defaults or a.posonlyargs:
            raise _Refused("not_a_value")
        params = [p.arg for p in a.args]
        taken = self.names | set(self.constants) | _CONSTRUCTORS
        if len(set(params)) != len(params) or any(p.startswith("_") or p in taken for p in params):
            raise _Refused("not_a_value")

        def operand(e: ast.AST) -> str:
            if isinstance(e, ast.Name) and e.id in params:
                return e.id
            if isinstance(e, ast.Lambda):
                raise _Refused("not_a_value")
            return _text(self.value(e, depth))

        match node.body:
            case ast.Compare(left=left, ops=ops, comparators=rest):
                body = operand(left) + "".join(
                    f" {_CMP[type(op)]} {operand(c)}" for op, c in zip(ops, rest, strict=True)
                )
            case ast.Call(
                func=ast.Attribute(value=ast.Name(id=recv), attr=m), args=args, keywords=kws
            ) if recv in params and not m.startswith("_") and m not in _LAMBDA_DENIED_METHODS:
                if any(isinstance(x, ast.Starred) for x in args) or any(k.arg is None for k in kws):
                    raise _Refused("not_a_value")
                texts = [operand(x) for x in args] + [f"{k.arg}={operand(k.value)}" for k in kws]
                body = f"{recv}.{m}({', '.join(texts)})"
            case _:
                raise _Refused("not_a_value")
        return f"(lambda {', '.join(params)}: {body})"


def _check_hashable(values: list) -> None:
    for v in values:
        try:
            hash(v)
        except TypeError:
            raise _Refused("not_a_value") from None


def _iter_value(v: object) -> object:
    if type(v) is range and len(v) > MAX_SIZE // 2:
        raise _Refused("too_large")
    if type(v) not in (list, tuple, set, frozenset, str, bytes, range, dict):
        raise _Refused("not_a_value")
    return v


def _size(v: object) -> int:
    text = serialize(v, MAX_SIZE)
    if text is None:
        raise _Refused("too_large")
    return len(text)


def serialize(value: object, budget: int = 100_000) -> str | None:
    """Canonical text of a value made of exact builtin types only, or None (anything else, or
    longer than ``budget`` characters, or nested deeper than 100).

    Sets are written sorted when their elements order, ``set()``/``frozenset({..})`` when they
    have no literal, ``float('inf')``/``float('nan')`` for non-finite floats. Builtins only: its
    source also runs inside the sandbox, where it turns a program's result into text.

    Example:
        >>> serialize([{3, 1}, set(), float('-inf'), (1,)])
        "[{1, 3}, set(), float('-inf'), (1,)]"
    """
    left = [budget]

    def charge(n):
        left[0] -= n
        if left[0] < 0:
            raise OverflowError

    def text(v, depth):
        if depth > 100:
            raise OverflowError
        t = type(v)
        if v is None or t is bool:
            return "True" if v is True else "False" if v is False else "None"
        if t is int:
            charge(v.bit_length() // 3 + 1)  # repr's digits, before building them
            return repr(v)
        if t is float:
            charge(24)
            if v != v:
                return "float('nan')"
            if v in (1e999, -1e999):  # 1e999 is the float infinity
                return "float('inf')" if v > 0 else "float('-inf')"
            return repr(v)
        if t is complex:
            charge(50)
            if not all(p == p and p not in (1e999, -1e999) for p in (v.real, v.imag)):
                raise ValueError
            return repr(v)
        if t is str or t is bytes:
            charge(len(v) + 3)
            return repr(v)
        if t is range:
            charge(40)
            return repr(v)
        if t is list or t is tuple:
            charge(2 * len(v) + 2)
            parts = [text(x, depth + 1) for x in v]
            if t is list:
                return "[" + ", ".join(parts) + "]"
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if t is set or t is frozenset:
            charge(2 * len(v) + 12)
            pairs = [(x, text(x, depth + 1)) for x in v]
            try:
                pairs.sort(key=lambda p: p[0])
            except TypeError:  # mixed types: order by the text instead
                pairs.sort(key=lambda p: p[1])
            body = ", ".join(p[1] for p in pairs)
            if t is set:
                return "{" + body + "}" if pairs else "set()"
            return "frozenset({" + body + "})" if pairs else "frozenset()"
        if t is dict:
            charge(4 * len(v) + 2)
            items = [text(k, depth + 1) + ": " + text(x, depth + 1) for k, x in v.items()]
            return "{" + ", ".join(items) + "}"
        raise TypeError

    try:
        return text(value, 0)
    except (OverflowError, TypeError, ValueError, RecursionError, MemoryError):
        return None


@functools.cache
def sandbox_source() -> str:
    """The source of ``serialize``, to be executed where the program runs."""
    return inspect.getsource(serialize)


# ------------------------------------------------------------------ what a program lets a prediction name
@functools.lru_cache(maxsize=512)
def program_names(code: str) -> frozenset[str]:
    """Names bound at module level by ``def``/``class``/``import`` and bound nowhere else.

    Example:
        >>> sorted(program_names("import math\\nX = g\\ndef f(x):\\n    return x\\nclass C: pass"))
        ['C', 'f', 'math']
    """
    tree = _program_tree(code)
    if tree is None:
        return frozenset()
    bound: dict[str, int] = {}
    for node in ast.walk(tree):
        for name in _bindings(node):
            bound[name] = bound.get(name, 0) + 1
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(_import_names(node))
    return frozenset(n for n in names if bound.get(n) == 1 and not n.startswith("__"))


@functools.lru_cache(maxsize=512)
def program_constants(code: str) -> Mapping[str, str]:
    """``NAME -> canonical text`` for module-level ``NAME = <value>`` the program uses nowhere
    else (so nothing can change it before the call); empty when the program reaches its own
    namespace dynamically (``globals``, ``vars``, ``eval``, ``exec``, ``sys``, ...).

    Example:
        >>> dict(program_constants("A = [1, 2]\\nB = 3\\ndef f(x):\\n    return x + B\\n"))
        {'A': '[1, 2]'}
    """
    tree = _program_tree(code)
    if tree is None:
        return MappingProxyType({})
    seen: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            seen[node.id] = seen.get(node.id, 0) + 1
        elif (isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_SCOPE) or (
            isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
        ):
            return MappingProxyType({})
        for name in _bindings(node):
            if not isinstance(node, ast.Name):
                seen[name] = seen.get(name, 0) + 1
    if _DYNAMIC_SCOPE & seen.keys():
        return MappingProxyType({})
    out = {}
    for node in tree.body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.simple and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and seen.get(target.id) == 1 and value is not None:
            try:
                text = _text(_Builder(frozenset(), {}).value(value, 0))
                if len(text) <= MAX_CONSTANT_CHARS:
                    out[target.id] = text
            except (_Refused, RecursionError, MemoryError, OverflowError):
                continue
    return MappingProxyType(out)


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
