"""The tracer gives REval's answers: compared with an in-process REval-style reference.

The reference follows REval's ``dynamics.py`` behaviour (reimplemented): the program is defined
first, then only the call is traced; every ``line`` event stores deep-copied locals (modules,
functions, builtins and iterators left out), a ``line`` event on the line of the last state
overwrites its locals, ``return`` / ``exception`` events only set the return value / exception
(a new state, with no locals, when on another line). Our recorder also leaves dunder names out.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from collections.abc import Iterator

import pytest

from stepcode.execution import coverage, next_lines_of, trace_batch, value_after
from stepcode.types import Limits

_FILENAME = "<internals>"
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def reval_states(code: str, call: str) -> list[dict]:
    """REval-style states: ``{"line", "locals", "return", "exception"}`` per merged state."""
    states: list[dict] = []

    def add(line: int, key: str, value: object) -> None:
        if not states or states[-1]["line"] != line:
            states.append({"line": line, "locals": {}, "return": None, "exception": None})
        states[-1][key] = value

    def local(frame, event, arg):
        if event == "line":
            snap = {}
            for k, v in frame.f_locals.items():
                skip = v.__class__.__name__ in ("module", "function", "builtin_function_or_method")
                if not (skip or isinstance(v, Iterator)):
                    try:
                        snap[k] = copy.deepcopy(v)
                    except Exception:  # noqa: BLE001 - REval itself would crash on a dict view
                        snap[k] = v
            add(frame.f_lineno, "locals", snap)
        elif event == "return":
            add(frame.f_lineno, "return", arg)
        elif event == "exception":
            add(frame.f_lineno, "exception", arg[0])

    def glob(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == _FILENAME:
            return local
        return None

    env: dict = {"__name__": "__main__"}
    exec(compile(code, _FILENAME, "exec"), env)
    sys.settrace(glob)
    try:
        eval(compile(call, "<call>", "eval"), env)
    except Exception:  # noqa: BLE001 - a raising program still has its states
        pass
    finally:
        sys.settrace(None)
    return states


def _has_set(value: object, depth: int = 0) -> bool:
    if isinstance(value, set | frozenset):
        return True
    if depth > 20 or not isinstance(value, list | tuple | dict):
        return False
    items = list(value.items()) if isinstance(value, dict) else value
    return any(_has_set(v, depth + 1) for v in items)


def _same_repr(ours: str, value: object) -> bool:
    theirs = repr(value)
    if _ADDR.sub("", ours) == _ADDR.sub("", theirs):
        return True
    if not _has_set(value):
        return False
    try:  # sets print in hash order, which differs between processes
        return ast.literal_eval(ours) == ast.literal_eval(theirs)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _assert_same_answers(code: str, call: str, trace) -> None:
    ref = reval_states(code, call)
    assert [e.line for e in trace.events] == [s["line"] for s in ref], code
    for ev, st in zip(trace.events, ref, strict=True):
        theirs = {k: v for k, v in st["locals"].items() if not k.startswith("__")}
        assert ev.locals.keys() == theirs.keys(), (code, ev)
        for name, value in theirs.items():
            assert _same_repr(ev.locals[name].repr, value), (code, ev.line, name)
            assert ev.locals[name].type == type(value).__name__
        if st["exception"] is not None:
            assert ev.exception == st["exception"].__name__
    lines = {s["line"] for s in ref}
    assert coverage(trace) == lines
    for line in lines | {0, 999}:
        nxt = {
            ref[i + 1]["line"] if i + 1 < len(ref) else -1
            for i, s in enumerate(ref)
            if s["line"] == line
        }
        assert next_lines_of(trace, line) == (nxt or {-1})


HAND_PROGRAMS = [
    (
        "def f(xs):\n    t = 0\n    for x in xs:\n        if x % 2:\n            continue\n        t += x\n    else:\n        t += 100\n    return t\n",
        "f([1, 2, 3, 4])",
    ),
    (
        "def f(xs):\n    for x in xs:\n        if x > 1:\n            break\n    else:\n        return -1\n    return x\n",
        "f([0, 1, 2])",
    ),
    (
        "def f(xs):\n    out = []\n    try:\n        for x in xs:\n            out.append(10 // x)\n    finally:\n        out.append('done')\n    return out\n",
        "f([5, 0])",
    ),
    ("def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n", "fact(4)"),
    (
        "def f():\n    c = 0\n    def bump():\n        nonlocal c\n        c += 1\n        return c\n    bump()\n    return bump()\n",
        "f()",
    ),
    (
        "def gen(n):\n    for i in range(n):\n        yield i * i\ndef f(n):\n    s = [v for v in gen(n)]\n    d = {k: k + 1 for k in s}\n    return sum(x for x in d)\n",
        "f(4)",
    ),
    (
        "class Box:\n    def __init__(self, v):\n        self.v = v\n    def grow(self):\n        self.v += 1\n        return self.v\ndef f():\n    b = Box(1)\n    b.grow()\n    return b.v\n",
        "f()",
    ),
    (
        "def f():\n    a = [1]\n    b = a\n    b.append(2)\n    a = a + [3]\n    return a, b\n",
        "f()",
    ),
    ("def f():\n    i = 0\n    while i < 5: i += 1\n    return i\n", "f()"),
    ("def g(x):\n    return x + 1\ndef f():\n    y = 2\n    return g(y)\n", "f()"),
    (
        "def g(x):\n    raise ValueError(x)\ndef f():\n    try:\n        g(1)\n    except ValueError as e:\n        m = str(e)\n    return m\n",
        "f()",
    ),
    (
        "def f(s):\n    print('x: 1')\n    out = {c for c in s}\n    print('return: 2')\n    return sorted(out)\n",
        "f('hello')",
    ),
    (
        "def f(n):\n    it = iter(range(n))\n    m = map(str, range(n))\n    p = print\n    return list(m)\n",
        "f(3)",
    ),
    (
        "def f(d):\n    for k, v in d.items():\n        d[k] = v * 2\n    x = y = 0\n    x, *rest = [1, 2, 3]\n    return d\n",
        "f({'a': 1, 'b': 2})",
    ),
    (  # items replaced by equal objects of another type, nested and aliased mutation
        "def f():\n    xs = [1, 'a']\n    xs[0] = True\n    xs[0] = 1.0\n    d = {'k': 1}\n"
        "    d['k'] = True\n    d[True] = 2\n    n = [[1]]\n    n[0].append(2)\n"
        "    t = (n, 1)\n    n.append(3)\n    xs.sort(key=str)\n    return xs, d, t\n",
        "f()",
    ),
]


def test_hand_programs_match_the_reval_reference():
    traces = trace_batch(HAND_PROGRAMS)
    for (code, call), tr in zip(HAND_PROGRAMS, traces, strict=True):
        _assert_same_answers(code, call, tr)


def test_return_on_another_line_is_a_state_without_locals():
    code, call = HAND_PROGRAMS[9]  # f's `return g(y)` comes back after g's state
    (tr,) = trace_batch([(code, call)])
    last = tr.events[-1]
    assert (last.line, last.func, dict(last.locals), last.return_value) == (5, "f", {}, "3")
    assert value_after(tr, 2, "x") is None  # REval Nil: the state after g's line has no x
    assert [v.repr for v in value_after(tr, 4, "y")] == ["2"]
    assert value_after(tr, 99, "y") is None


def test_cruxeval_programs_match_the_reval_reference(cruxeval_path):
    items = [json.loads(line) for line in cruxeval_path.read_text().splitlines()][:300]
    pairs = [(it["code"], f"f({it['input']})") for it in items]
    traces = trace_batch(pairs, Limits(max_repr_chars=100_000))
    for (code, call), tr in zip(pairs, traces, strict=True):
        assert not tr.truncated
        _assert_same_answers(code, call, tr)


@pytest.mark.parametrize("steps", [1, 7, 50])
def test_step_bound_cuts_a_prefix(steps):
    code, call = HAND_PROGRAMS[0]
    (full,) = trace_batch([(code, call)])
    (cut,) = trace_batch([(code, call)], Limits(max_trace_steps=steps))
    assert cut.truncated == (steps < len(full.events))
    assert [e.line for e in cut.events] == [e.line for e in full.events][:steps]
    assert cut.return_value == full.return_value  # the program itself runs on untraced
