"""The values REval state answers and tracer reprs stand for: literals, never code.

Everything goes through ``rewards.values.parse_value`` (bounded in size and depth before anything
is built, literal forms only). Beyond it, REval needs a few values that have no literal and are
written as one constructor call on literal arguments: ``bytearray(b'a')`` in an answer, and in the
reprs the tracer brings back from ClassEval programs ``deque([..])``, ``array([..])`` (numpy),
``np.float64(1.5)``, ``datetime.datetime(1900, 1, 1, 11, 0)``. ``constructed(text, table)`` reads
exactly that form: an allow-listed name, then arguments that ``parse_value`` parses as one tuple,
of the types the table allows for that name (so ``bytearray(10**9)`` is refused, not allocated);
no keywords, nothing else. (It stands in for an allow-list parameter of ``parse_value``.)
"""

from __future__ import annotations

import collections
import datetime
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from stepcode.rewards.values import parse_value

Constructor = tuple[Callable[..., Any], tuple[type, ...]]
"""(the class, the types its positional arguments may have)"""
MAX_TEXT_CHARS = 50_000
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]{0,40})\((.*)\)", re.DOTALL)

ANSWER_CONSTRUCTORS: Mapping[str, Constructor] = {"bytearray": (bytearray, (bytes, list))}
"""builtin classes REval's ``eval`` builds in an answer that have no literal"""


@functools.cache
def _repr_constructors() -> dict[str, Constructor]:
    """The non-literal reprs of values ClassEval programs hold (numpy only when installed)."""
    out: dict[str, Constructor] = {
        "bytearray": (bytearray, (bytes,)),
        "deque": (collections.deque, (list,)),
        "datetime.datetime": (datetime.datetime, (int,)),
    }
    try:
        import numpy as np
    except ImportError:
        return out
    out["array"] = (np.array, (list, tuple, int, float, bool))
    for name in NUMPY_SCALARS:
        out[f"np.{name}"] = (getattr(np, name), (int, float, bool))
    return out


NUMPY_SCALARS = ("float64", "float32", "int64", "int32", "bool_")


def literal(text: str) -> tuple[bool, Any]:
    """``(True, value)`` for a literal the way ``parse_value`` reads it, else ``(False, None)``."""
    p = parse_value(text)
    if p.ok and not p.needs_program:
        return True, p.value
    return False, None


def constructed(text: str, table: Mapping[str, Constructor]) -> tuple[bool, Any]:
    """``(True, value)`` for ``name(<literal args>)`` with ``name`` in ``table``; else ``(False, None)``."""
    m = _CALL.fullmatch(text.strip()) if len(text) <= MAX_TEXT_CHARS else None
    if m is None or m.group(1) not in table:
        return False, None
    cls, arg_types = table[m.group(1)]
    ok, args = literal(f"({m.group(2)},)") if m.group(2).strip() else (True, ())
    if not ok or not isinstance(args, tuple) or not all(type(a) in arg_types for a in args):
        return False, None
    try:
        return True, cls(*args)
    except (TypeError, ValueError, OverflowError):
        return False, None


def actual_value(text: str) -> tuple[bool, Any]:
    """The value a tracer repr stands for (a program wrote it: hostile text too)."""
    ok, value = literal(text)
    return (ok, value) if ok else constructed(text, _repr_constructors())


def answer_value(text: str) -> tuple[bool, Any]:
    """The value an answer's value part stands for (model text)."""
    ok, value = literal(text)
    return (ok, value) if ok else constructed(text, ANSWER_CONSTRUCTORS)
