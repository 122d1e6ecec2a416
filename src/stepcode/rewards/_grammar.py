"""The grammar behind ``rewards.values``: a small evaluator of the accepted forms, with its bounds.

``Builder.value(node)`` walks a syntax tree (never compiled, never run) and builds the value the
accepted forms describe, refusing (``Refused(reason)``) any other node, any nesting deeper than
``MAX_DEPTH``, more than ``MAX_NODES`` nodes and any value larger than ``MAX_SIZE`` characters
of canonical text, checked *before* an operation that could grow it runs. ``serialize`` writes
the canonical text. The forms and why they are there: ``rewards.values``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

MAX_TEXT_CHARS = 50_000
MAX_DEPTH = 100
MAX_NODES = 20_000
MAX_SIZE = 100_000
MAX_CONSTANT_CHARS = 10_000
STR_METHODS = frozenset(("join", "split", "upper"))
LAMBDA_DENIED_METHODS = frozenset(("format", "format_map"))
CONSTRUCTORS = frozenset(("set", "frozenset", "dict", "range", "float"))
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}  # fmt: skip


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(frozen=True)
class Code:
    """A value that exists only where the program runs (a program name, a lambda, or a display
    holding one): its canonical text."""

    text: str


def parse_tree(text: object, mode: str) -> ast.AST:
    if not isinstance(text, str):
        raise Refused("not_a_value")
    if len(text) > MAX_TEXT_CHARS:
        raise Refused("too_long")
    if not text.strip():
        raise Refused("empty")
    try:
        tree = ast.parse(text.strip(), mode=mode)
    except (SyntaxError, ValueError):
        raise Refused("syntax_error") from None
    except (RecursionError, MemoryError):
        raise Refused("too_deep") from None
    return tree.body  # type: ignore[attr-defined]


def text_of(built: tuple[object, int]) -> str:
    value = built[0]
    if isinstance(value, Code):
        return value.text
    text = serialize(value, 4 * MAX_SIZE)
    if text is None:  # e.g. a complex with an infinite part: no canonical text
        raise Refused("not_a_value")
    return text


class Builder:
    """Walks a syntax tree of the accepted forms and builds the value, with its size."""

    def __init__(self, names: frozenset[str], constants: Mapping[str, str]) -> None:
        self.names = names
        self.constants = constants
        self.nodes = 0
        self.size = 0
        self.resolved: dict[str, tuple[object, int]] = {}

    def value(self, node: ast.AST, depth: int) -> tuple[object, int]:
        """(value or ``Code``, size in canonical-text characters)."""
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise Refused("too_deep")
        if self.nodes > MAX_NODES:
            raise Refused("too_large")
        built = self._build(node, depth + 1)
        self.size += built[1]
        if built[1] > MAX_SIZE or self.size > 4 * MAX_SIZE:
            raise Refused("too_large")
        return built

    def _build(self, node: ast.AST, depth: int) -> tuple[object, int]:
        match node:
            case ast.Constant(value=v) if v is not Ellipsis:
                return v, len(v) + 3 if isinstance(v, str | bytes) else len(repr(v))
            case ast.UnaryOp(op=ast.USub() | ast.UAdd() as op, operand=operand):
                v, n = self.value(operand, depth)
                if type(v) not in (int, float, complex):
                    raise Refused("not_a_value")
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
            case ast.Call(func=ast.Name(id=name), args=args, keywords=kws) if name in CONSTRUCTORS:
                return self._construct(name, args, kws, depth)
            case ast.Call(func=ast.Attribute(value=recv, attr=attr), args=args, keywords=kws) if (
                attr in STR_METHODS
            ):
                return self._str_method(self.value(recv, depth), attr, args, kws, depth)
            case ast.Subscript(value=target, slice=ast.Slice() as sl):
                return self._slice(self.value(target, depth), sl, depth)
            case ast.Lambda():
                text = self._lambda(node, depth)
                return Code(text), len(text)
        raise Refused("not_a_value")

    # ------------------------------------------------------------------ forms
    def _binop(self, op: ast.operator, left: tuple, right: tuple) -> tuple[object, int]:
        (a, n), (b, m) = left, right
        ta, tb = type(a), type(b)
        if isinstance(op, ast.Mult):
            if ta is int and tb in (str, bytes, list, tuple):
                (a, n), (b, m), ta, tb = right, left, tb, ta
            if ta not in (str, bytes, list, tuple) or tb is not int:
                raise Refused("not_a_value")
            if b <= 0:
                return a[:0], 3
            if n * b > MAX_SIZE:
                raise Refused("too_large")
            return a * b, n * b
        if ta is tb and ta in (str, bytes, list, tuple) and isinstance(op, ast.Add):
            if n + m > MAX_SIZE:
                raise Refused("too_large")
            return a + b, n + m
        # complex literals: a real number plus or minus an imaginary one (``1+2j``, ``-1-0.5j``)
        if ta in (int, float) and tb is complex and b.real == 0:
            return (a + b if isinstance(op, ast.Add) else a - b), n + m + 3
        raise Refused("not_a_value")

    def _display(self, kind: type, items: list[tuple[object, int]]) -> tuple[object, int]:
        size = 2 + sum(n + 2 for _, n in items)
        if any(isinstance(v, Code) for v, _ in items):
            texts = [text_of(i) for i in items]
            if kind is list:
                return Code("[" + ", ".join(texts) + "]"), size
            if kind is tuple:
                return Code("(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"), size
            return Code("{" + ", ".join(texts) + "}"), size
        values = [v for v, _ in items]
        if kind is set:
            _check_hashable(values)
        return kind(values), size

    def _dict(self, pairs: list[tuple[tuple, tuple]]) -> tuple[object, int]:
        size = 2 + sum(k[1] + v[1] + 4 for k, v in pairs)
        if any(isinstance(k[0], Code) or isinstance(v[0], Code) for k, v in pairs):
            body = ", ".join(f"{text_of(k)}: {text_of(v)}" for k, v in pairs)
            return Code("{" + body + "}"), size
        _check_hashable([k[0] for k, _ in pairs])
        return {k[0]: v[0] for k, v in pairs}, size

    def _name(self, name: str) -> tuple[object, int]:
        if name in self.constants:
            if name not in self.resolved:  # parsed once per prediction, however often it is named
                built = Builder(frozenset(), {}).value(parse_tree(self.constants[name], "eval"), 0)
                if isinstance(built[0], Code):
                    raise Refused("not_a_value")
                self.resolved[name] = built
            return self.resolved[name]
        if name in self.names and not name.startswith("__"):
            return Code(name), len(name)
        raise Refused("unknown_name")

    def _plain_args(self, args: list, kws: list, depth: int) -> tuple[list, dict]:
        if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in kws):
            raise Refused("not_a_value")
        pos = [self.value(a, depth) for a in args]
        named = {k.arg: self.value(k.value, depth) for k in kws}
        if any(isinstance(v, Code) for v, _ in [*pos, *named.values()]):
            raise Refused("not_a_value")  # constructors and methods take plain values only
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
                raise Refused("not_a_value")
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
                raise Refused("not_a_value") from None
        raise Refused("not_a_value")

    def _str_method(
        self, recv: tuple, attr: str, args: list, kws: list, depth: int
    ) -> tuple[object, int]:
        s, n = recv
        if type(s) is not str:
            raise Refused("not_a_value")
        pos, named = self._plain_args(args, kws, depth)
        if attr == "upper" and not pos and not named:
            return s.upper(), 3 * n
        if attr == "join" and len(pos) == 1 and not named:
            items = list(_iter_value(pos[0]))
            if not all(type(i) is str for i in items):
                raise Refused("not_a_value")
            size = sum(len(i) for i in items) + len(s) * max(0, len(items) - 1) + 3
            if size > MAX_SIZE:
                raise Refused("too_large")
            return s.join(items), size
        if attr == "split" and len(pos) + len(named) <= 2 and set(named) <= {"sep", "maxsplit"}:
            params = dict(zip(("sep", "maxsplit"), pos, strict=False)) | named
            sep, maxsplit = params.get("sep"), params.get("maxsplit", -1)
            if (sep is not None and type(sep) is not str) or sep == "" or type(maxsplit) is not int:
                raise Refused("not_a_value")
            parts = s.split(sep, maxsplit)
            return parts, 2 + sum(len(p) + 5 for p in parts)
        raise Refused("not_a_value")

    def _slice(self, target: tuple, sl: ast.Slice, depth: int) -> tuple[object, int]:
        seq, n = target
        if type(seq) not in (str, bytes, list, tuple):
            raise Refused("not_a_value")
        bounds = []
        for part in (sl.lower, sl.upper, sl.step):
            v = None if part is None else self.value(part, depth)[0]
            if v is not None and type(v) is not int:
                raise Refused("not_a_value")
            bounds.append(v)
        if bounds[2] == 0:
            raise Refused("not_a_value")
        return seq[slice(*bounds)], n

    def _lambda(self, node: ast.Lambda, depth: int) -> str:
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.kw_defaults or a.posonlyargs:
            raise Refused("not_a_value")
        params = [p.arg for p in a.args]
        taken = self.names | set(self.constants) | CONSTRUCTORS
        if len(set(params)) != len(params) or any(p.startswith("_") or p in taken for p in params):
            raise Refused("not_a_value")

        def operand(e: ast.AST) -> str:
            if isinstance(e, ast.Name) and e.id in params:
                return e.id
            if isinstance(e, ast.Lambda):
                raise Refused("not_a_value")
            return text_of(self.value(e, depth))

        match node.body:
            case ast.Compare(left=left, ops=ops, comparators=rest):
                body = operand(left) + "".join(
                    f" {_CMP[type(op)]} {operand(c)}" for op, c in zip(ops, rest, strict=True)
                )
            case ast.Call(
                func=ast.Attribute(value=ast.Name(id=recv), attr=m), args=args, keywords=kws
            ) if recv in params and not m.startswith("_") and m not in LAMBDA_DENIED_METHODS:
                if any(isinstance(x, ast.Starred) for x in args) or any(k.arg is None for k in kws):
                    raise Refused("not_a_value")
                texts = [operand(x) for x in args] + [f"{k.arg}={operand(k.value)}" for k in kws]
                body = f"{recv}.{m}({', '.join(texts)})"
            case _:
                raise Refused("not_a_value")
        return f"(lambda {', '.join(params)}: {body})"


def _check_hashable(values: list) -> None:
    for v in values:
        try:
            hash(v)
        except TypeError:
            raise Refused("not_a_value") from None


def _iter_value(v: object) -> object:
    if type(v) is range and len(v) > MAX_SIZE // 2:
        raise Refused("too_large")
    if type(v) not in (list, tuple, set, frozenset, str, bytes, range, dict):
        raise Refused("not_a_value")
    return v


def _size(v: object) -> int:
    text = serialize(v, MAX_SIZE)
    if text is None:
        raise Refused("too_large")
    return len(text)


def serialize(value: object, budget: int = 100_000) -> str | None:
    """Canonical text of a value made of exact builtin types only, or None (anything else, or
    longer than ``budget`` characters, or nested deeper than 100).

    Sets are written sorted (by value when their elements are all numbers, all str or all bytes,
    else by text), ``set()``/``frozenset({..})`` when they have no literal, ``float('inf')``/``float('nan')`` for non-finite floats.

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
            if (
                all(type(x) is str for x in v)
                or all(type(x) is bytes for x in v)
                or all(type(x) in (int, float, bool) and x == x for x in v)
            ):  # a total order: by value
                pairs.sort(key=lambda p: p[0])
            else:  # mixed, nested or nan: by the text, so equal sets always read the same
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
