"""The one type-strict value equality: ``same_value(a, b)``.

REval's rule: two values are the same when Python ``==`` holds *and* the types agree all the way
down, so ``1``, ``1.0`` and ``True`` are three different answers, whether they stand alone, in a
list or tuple, as set elements, as dict keys or as dict values (``[1, True]`` is not ``[1, 1]``,
``{1}`` is not ``{1.0}``, ``{1: 'a'}`` is not ``{True: 'a'}``). It never accepts what ``==``
rejects. Every judge uses it: verdicts with ``strict=True`` (on the trusted side, and inside the
sandbox when the program's result cannot be brought back as a value), anchor steps and white-box
``value; type`` answers.

``same_value_repr(predicted_text, recorded_repr)`` is the same rule for a value the model wrote
against one a run recorded (anchor steps, white-box answers): both parsed as values, never run.

``same_value`` uses builtins only, so its source (``sandbox_source``) is what runs inside the
sandbox: the comparison there is this function, not a copy of it.
"""

from __future__ import annotations

import functools
import inspect

from stepcode.rewards.values import parse_value
from stepcode.tasks.templates import normalize_repr


def same_value(a: object, b: object) -> bool:
    """``a == b`` with equal types all the way down (lists, tuples, sets, dict keys and values).

    Example:
        >>> same_value([1, (2.0, 'x')], [1, (2.0, 'x')]), same_value([1, True], [1, 1])
        (True, False)
        >>> same_value({1: {True}}, {1: {1}}), same_value(1, 1.0)
        (False, False)
    """

    def key(x):  # a hashable value tagged with its type, recursively (set elements, dict keys)
        t = type(x)
        if t is tuple:
            return (t, tuple(key(y) for y in x))
        if t is frozenset:
            return (t, frozenset(key(y) for y in x))
        return (t, x)

    def same(x, y):
        if type(x) is not type(y):
            return False
        if isinstance(x, list | tuple):
            return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y, strict=True))
        if isinstance(x, set | frozenset):
            return len(x) == len(y) and {key(p) for p in x} == {key(q) for q in y}
        if isinstance(x, dict):
            by_key = {key(k): v for k, v in y.items()}
            return len(x) == len(by_key) and all(
                key(k) in by_key and same(v, by_key[key(k)]) for k, v in x.items()
            )
        return bool(x == y)

    return same(a, b)


def same_value_repr(predicted: str, recorded: str) -> bool:
    """Is ``predicted`` (model text) the value whose recorded repr is ``recorded``?

    Both are parsed as values and compared type-strictly; a recorded repr that is not a value
    (``<__main__.Node object at 0x..>``) is compared as text, addresses dropped.
    """
    want = parse_value(recorded)
    if not want.ok or want.needs_program:
        return normalize_repr(predicted) == normalize_repr(recorded)
    got = parse_value(predicted)
    return got.ok and not got.needs_program and same_value(got.value, want.value)


@functools.cache
def sandbox_source() -> str:
    """The source of ``same_value``, to be executed where the program runs."""
    return inspect.getsource(same_value)
