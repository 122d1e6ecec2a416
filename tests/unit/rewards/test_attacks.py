"""Hostile predictions against every judge: whatever is accepted is the gold value, by value and
type; nothing raises, nothing takes longer than its bound.

The program answers ``('int', 6)`` for exactly one input, the int 3 (``x * 2 == 6`` and the type
name ``int``), and binds names on the right of assignments (its builtins, a generator, itself)
that an attacker would like to reach.
"""

from __future__ import annotations

import ast
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepcode.rewards import (
    parse_call_for,
    parse_completion,
    parse_value,
    parse_value_for,
    program_names,
    same_value,
    score_batch,
    verify_inputs,
    verify_outputs,
)
from stepcode.tasks import make_tasks
from stepcode.types import Program, TaskKind

CODE = (
    "H = __builtins__\n"
    "G = (i for i in ())\n"
    "SEEN = []\n"
    "def f(x):\n"
    "    return (type(x).__name__, x * 2)\n"
    "Y = f\n"
)
GOLD_IN, GOLD_OUT = "3", "('int', 6)"

ATTACKS = [
    # attribute chains, frames, dunder walks
    "(i for i in ()).gi_frame.f_globals.update(__stepcode_fresh=lambda s: {'f': lambda x: 6}) or 5",
    "(i for i in ()).gi_frame.f_back.f_locals",
    "G.gi_frame.f_globals['f']",
    "().__class__.__base__.__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()[0]",
    "(lambda: 0).__globals__['__builtins__']",
    "f.__code__",
    "Y.__globals__",
    "H['exec']('f = lambda x: 6')",
    "__import__('sys')._getframe(1).f_locals",
    "[].copy.__self__",
    # format strings
    "'{0.__class__.__base__}'.format(1)",
    "'%s' % 5",
    "f'{5}'",
    "'{}'.format_map({})",
    # generator / lambda tricks
    "(lambda: 3)()",
    "(lambda x: x.gi_frame)(G)",
    "lambda x: x.__class__",
    "lambda x: x.format(1)",
    "lambda x: (y for y in x)",
    "lambda x=3: x",
    "lambda *a: 3",
    "next(iter([3]))",
    "[3 for _ in ()]",
    "{k: 3 for k in ()}",
    "(3 for _ in ())",
    # walrus, starred, unpacking
    "(x := 3)",
    "*[3]",
    "**{'x': 3}",
    "[*range(3)]",
    "{**{}}",
    # names from the program's right-hand sides and builtins with side effects
    "H", "G", "Y", "SEEN", "f", "print(3) or 3", "exit(0)", "globals().update(f=len)",
    "setattr(H, 'type', str)", "exec('f = 1')", "eval('3')", "open('/etc/passwd').read()",
    "input()", "__import__('os')._exit(0)", "SEEN.append(1) or 3", "type('X', (), {})()",
    # operators that are not values
    "3 if True else 0", "0 or 3", "1 and 3", "(0, 3)[1]", "6 // 2", "1 + 2", "~-4", "not 0",
    # huge, deep, slow
    "'a' * 10**9", "10**10**10", "[1] * 10**8", "b'a' * 1000000000", "bytes(10**9)",
    "'a' * 100000 * 100000", "''.join(['ab' * 50000] * 50000)", "set(range(10**12))",
    "[" * 5000 + "]" * 5000, "(" * 300 + "3" + ")" * 300, "-" * 20000 + "3",
    " + ".join(["b'a'"] * 5000), "1" * 5000, "[" + "[1]," * 30000 + "]",
    # injection into the check
    "3) or True or (3", "3); import os; os._exit(0); (3", "3)\nf = lambda x: 6\nf(3",
    "x=3), f(3", "3\n4", "", "3  # ) or True",
]  # fmt: skip

FRAGMENTS = ["3", "6", "'int'", "x", "f", "G", "H", "Y", ".gi_frame", ".f_globals", ".__class__",
             "(", ")", "[", "]", "{", "}", ",", ":", "=", ":=", "*", "**", " + ", " * ", "lambda x: ",
             "lambda: ", " for i in ()", " if 1 else ", "'{0.__class__}'", ".format", ".join",
             ".upper()", "[::-1]", "set", "frozenset", "range", "float", "dict", "'inf'", "10**9",
             "__import__", "print", ".reverse()", " < ", "-", "True", "None", "b'x'", "\n", ";"]  # fmt: skip


def _wrap(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    forms = ["[{}]", "({},)", "{{'k': {}}}", "{{{}}}", "{} + {}", "{} * 3", "dict(x={})",
             "frozenset([{}])", "lambda x: x.count({})", "lambda x: x < {}"]  # fmt: skip
    return st.tuples(st.sampled_from(forms), inner).map(lambda p: p[0].replace("{}", p[1]))


hostile = st.recursive(
    st.sampled_from(ATTACKS) | st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join),
    _wrap,
    max_leaves=4,
)


def _only_value_forms(text: str) -> bool:
    """The canonical text holds no code: displays, constants, the four constructors, the
    program's ``def`` names, and lambdas whose attributes are public method calls on a parameter."""
    tree = ast.parse(text, mode="eval")
    params = {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    allowed = {"set", "frozenset", "float", "range"} | params | program_names(CODE)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed:
            return False
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith("_")
            or node.attr in ("format", "format_map")
            or not (isinstance(node.value, ast.Name) and node.value.id in params)
        ):
            return False
        if isinstance(
            node,
            ast.Subscript
            | ast.NamedExpr
            | ast.Starred
            | ast.comprehension
            | ast.JoinedStr
            | ast.BoolOp
            | ast.IfExp
            | ast.Await
            | ast.Yield,
        ):
            return False
    return True


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _timed(fn, *args, limit: float, **kwargs):
    t0 = time.monotonic()
    out = fn(*args, **kwargs)
    assert time.monotonic() - t0 < limit, (fn.__name__, args)
    return out


@settings(max_examples=400, deadline=None)
@given(text=hostile)
def test_parsers_never_raise_and_accept_only_values(text: str) -> None:
    got = _timed(parse_value_for, CODE, text, limit=1.0)
    assert isinstance(got.reason, str)
    if got.ok:  # a value, or only what the grammar lets stand for one
        again = parse_value_for(CODE, got.text)
        assert again.ok and again.text == got.text  # canonical text is a fixed point
        if not got.needs_program:
            assert same_value(again.value, got.value)
        assert _only_value_forms(got.text), (text, got.text)
    call = _timed(parse_call_for, CODE, f"f({text})", "f", limit=1.0)
    if call.ok:  # the entry point is never an argument (it could be rebound through one)
        node = ast.parse(f"g({call.args_text})", mode="eval").body
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            assert _only_value_forms(ast.unparse(arg)) and "f" not in _names(arg), text
        assert parse_call_for(CODE, f"f({call.args_text})", "f").args_text == call.args_text


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # each example is two sandbox batches
@given(texts=st.lists(hostile, min_size=1, max_size=6))
def test_verify_accepts_only_the_gold_value(texts: list[str]) -> None:
    for strict in (False, True):
        ins = _timed(verify_inputs, [(CODE, GOLD_OUT, t) for t in texts], strict=strict, limit=60)
        outs = _timed(verify_outputs, [(CODE, GOLD_IN, t) for t in texts], strict=strict, limit=60)
        for text, v in zip(texts, ins, strict=True):
            if v.correct:
                assert parse_call_for(CODE, f"f({text})", "f").args_text in ("3", "x=3"), text
        for text, v in zip(texts, outs, strict=True):
            if v.correct:
                got = parse_value(text)
                want = parse_value(GOLD_OUT).value
                assert got.ok and (same_value(got.value, want) if strict else got.value == want)


@pytest.mark.parametrize("text", ATTACKS, ids=range(len(ATTACKS)))
def test_no_listed_attack_wins_any_judge(text: str) -> None:
    assert not any(v.correct for v in verify_inputs([(CODE, GOLD_OUT, text)]))
    assert not any(v.correct for v in verify_outputs([(CODE, GOLD_IN, text)]))
    assert not any(v.correct for v in verify_inputs([(CODE, GOLD_OUT, text)], strict=True))


@pytest.fixture(scope="module")
def tasks():
    p = Program(program_id="p", code=CODE, input_args=GOLD_IN, output=GOLD_OUT)
    return {t.kind: t for t in make_tasks(p, [TaskKind.OUTPUT, TaskKind.INPUT])}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(hostile, min_size=1, max_size=4))
def test_completions_score_only_gold_values(tasks, texts: list[str]) -> None:
    """``parse_completion`` and ``score_batch`` (what RL and eval use) on the same attacks."""
    rows, comps = [], []
    for text in texts:
        rows.append(tasks[TaskKind.OUTPUT])
        comps.append(f"<answer>\nassert f(3) == {text}\n</answer>")
        rows.append(tasks[TaskKind.INPUT])
        comps.append(f"<answer>\nassert f({text}) == {GOLD_OUT}\n</answer>")
    for task, comp in zip(rows, comps, strict=True):
        p = _timed(parse_completion, task, comp, limit=1.0)
        assert isinstance(p.reason, str)
        if p.ok and task.kind is TaskKind.OUTPUT:  # a value, or a name of the program
            assert parse_value_for(CODE, p.predicted).text == p.predicted
    rewards = _timed(score_batch, rows, comps, limit=60)
    for task, reward in zip(rows, rewards, strict=True):
        if reward.outcome:
            if task.kind is TaskKind.OUTPUT:
                assert same_value(parse_value(reward.parse.predicted).value, ("int", 6))
            else:
                assert reward.parse.predicted in ("3", "x=3")
