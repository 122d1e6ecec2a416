"""Verification by execution: gold CRUXEval answers pass, hostile predictions never do."""

from __future__ import annotations

import json
import time

import pytest

from stepcode.rewards import verify_input, verify_inputs, verify_output, verify_outputs
from stepcode.rewards.values import parse_call, program_constants, program_names

INC = "def f(x):\n    return x + 1\n"
IDENT = "def f(x):\n    return x\n"

HOSTILE_OUTPUTS = [
    "2 or True",
    "f(1)",
    "f(1) if True else 2",
    "__import__('os')._exit(0)",
    "exit(0)",
    "2\nimport os",
    "2; print('True')",
    "'a' * 10**9",
    "[1] * 10**8",
    "[" * 50_000 + "]" * 50_000,
    "(lambda: True)()",
    "type('X', (), {'__eq__': lambda s, o: True})()",
    "__eq__",
    "...",
    "'True'",
    "'PASS'",
    "float('nan')",
    "",
    "2)\nassert True\n(2",
    "1" * 50_000,
]

HOSTILE_INPUTS = [
    "1) or True or (1",
    "1); import os; os._exit(0); (1",
    "1)\nf = lambda x: 2\nf(1",
    "__import__('os')._exit(0)",
    "exit(0)",
    "f := (lambda x: 2)",
    "globals().update(f=lambda x: 2)",
    "setattr(__builtins__, 'int', str)",
    "type('E', (), {'__eq__': lambda s, o: True})()",
    "(1).__class__",
    "*[1]",
    "**{'x': 1}",
    "x=1), f(1",
    "f(1)",
    "[1] * 10**9",
    "'a' * 1000000000",
    "sum(range(1000000000000))",
    "(lambda: exec('f = 1'))()",
    "print('True') or 1",
    "[" * 50_000 + "]" * 50_000,
    "1\n2",
    "",
]


def test_output_gold_and_wrong() -> None:
    assert verify_output(INC, "1", "2").correct
    v = verify_output(INC, "1", "3")
    assert not v.correct and v.reason == "wrong_value"


def test_input_gold_and_wrong() -> None:
    assert verify_input(INC, "2", "1").correct
    assert verify_input(INC, "2", "x=1").correct
    assert not verify_input(INC, "2", "2").correct


@pytest.mark.parametrize("pred", HOSTILE_OUTPUTS, ids=range(len(HOSTILE_OUTPUTS)))
def test_hostile_outputs_rejected(pred: str) -> None:
    assert not verify_output(INC, "1", pred).correct


@pytest.mark.parametrize("pred", HOSTILE_INPUTS, ids=range(len(HOSTILE_INPUTS)))
def test_hostile_inputs_rejected(pred: str) -> None:
    assert not verify_input(INC, "2", pred).correct


def test_hostile_table_batch_does_not_hang() -> None:
    t0 = time.monotonic()
    out = verify_outputs([(IDENT, "2", p) for p in HOSTILE_OUTPUTS])
    inp = verify_inputs([(IDENT, "2", p) for p in HOSTILE_INPUTS])
    assert not any(v.correct for v in out + inp)
    assert time.monotonic() - t0 < 60  # each run is capped at 3 s by the sandbox


def test_identity_program_cannot_be_fooled_by_always_equal_argument() -> None:
    for pred in ["type('E', (), {'__eq__': lambda s, o: True})()", "(lambda: 1)"]:
        assert not verify_input(IDENT, "5", pred).correct
    assert verify_input(IDENT, "5", "5").correct


def test_strict_types_rule() -> None:
    code = "def f(x):\n    return x == 1\n"
    assert verify_output(code, "1", "1").correct  # True == 1 in Python
    assert not verify_output(code, "1", "1", strict=True).correct
    assert verify_output(code, "1", "True", strict=True).correct
    flt = "def f(x):\n    return x / 2\n"
    assert verify_output(flt, "2", "1").correct
    assert not verify_output(flt, "2", "1", strict=True).correct
    assert verify_output(flt, "2", "1.0", strict=True).correct


def test_literal_forms() -> None:
    assert verify_output("def f():\n    return -1\n", "", "-1").correct
    assert verify_output("def f():\n    return 1+2j\n", "", "(1+2j)").correct
    assert verify_output("def f():\n    return set()\n", "", "set()").correct
    assert verify_output("def f():\n    return {3, 1}\n", "", "{1, 3}").correct
    assert verify_output(
        "def f():\n    return [(1, {'a': b'x'})]\n", "", "[(1, {'a': b'x'})]"
    ).correct


def test_cruxeval_style_inputs_are_values() -> None:
    """The non-literal forms CRUXEval's gold inputs use are accepted and become values."""
    code = "g = [1, 2]\ndef f(a, b=0):\n    return a\n"
    scope = {"names": program_names(code), "constants": program_constants(code)}
    cases = {
        "dict(a=1)": "{'a': 1}",
        "''.join(['A'] * 3)": "'AAA'",
        "range(3), b=2": "range(0, 3), b=2",
        "lambda x: x < 2": "(lambda x: x < 2)",
        "(lambda x: x.reverse())": "(lambda x: x.reverse())",
        "g[:]": "[1, 2]",
        "'$78'.upper()": "'$78'",
        "'a-b'.split('-')": "['a', 'b']",
    }
    for args, canonical in cases.items():
        got = parse_call(f"f({args})", "f", **scope)
        assert got.ok and got.args_text == canonical, (args, got)
    for args in ["[i for i in range(3)]", "g.copy()", "len('a')", "f"]:
        assert not parse_call(f"f({args})", "f", **scope).ok, args


def test_reserialised_not_pasted() -> None:
    assert parse_call("f(  1 ,  [2,3]  )  ", "f").args_text == "1, [2, 3]"


@pytest.mark.slow  # ~8 s alone, > 20 s on a loaded 2-core machine
def test_cruxeval_gold_both_directions(cruxeval_path) -> None:
    rows = [json.loads(line) for line in cruxeval_path.read_text().splitlines() if line.strip()]
    assert len(rows) == 800
    for strict in (False, True):
        outs = verify_outputs([(r["code"], r["input"], r["output"]) for r in rows], strict=strict)
        ins = verify_inputs([(r["code"], r["output"], r["input"]) for r in rows], strict=strict)
        bad = [
            r["id"]
            for r, o, i in zip(rows, outs, ins, strict=True)
            if not (o.correct and i.correct)
        ]
        assert bad == [], strict


def test_equal_checks_in_a_batch_run_once_and_keep_their_order(monkeypatch):
    """The G samples of a task share one execution of the program, whatever they predict."""
    import stepcode.rewards.verify as verify_mod

    ran = []
    real = verify_mod.run_jobs

    def counting(jobs):
        ran.append(len(jobs))
        return real(jobs)

    monkeypatch.setattr(verify_mod, "run_jobs", counting)
    items = [(INC, "1", "2"), (INC, "1", "3"), (INC, "1", "2"), (IDENT, "1", "2"), (INC, "1", "2")]
    verdicts = verify_outputs(items)
    assert ran == [2]  # two distinct (program, input) runs; every prediction is judged by value
    assert [v.correct for v in verdicts] == [True, False, True, False, True]
    assert verdicts[0] == verdicts[2] == verdicts[4]


def test_results_that_are_not_plain_values_are_compared_where_they_live() -> None:
    """Subclasses, objects, non-finite floats, huge results: the official ``==`` in the sandbox."""
    counter = "import collections\ndef f():\n    return collections.Counter('aab')\n"
    big = "def f():\n    return list(range(20000))\n"
    huge_int = "def f():\n    return 10 ** 5000\n"
    class_eq = (
        "class P:\n    def __eq__(self, o):\n        return o == 3\ndef f():\n    return P()\n"
    )
    items = [
        (counter, "", "{'a': 2, 'b': 1}"),
        (counter, "", "{'a': 1}"),
        (big, "", "list(range(20000))"),  # not a value: refused
        ("def f():\n    return [float('inf'), float('nan')]\n", "", "[float('inf'), 1]"),
        ("def f():\n    return float('-inf')\n", "", "float('-inf')"),
        (huge_int, "", "1"),
        (class_eq, "", "3"),  # the program's own object decides, as in the official harness
    ]
    assert [v.correct for v in verify_outputs(items)] == [
        True,
        False,
        False,
        False,
        True,
        False,
        True,
    ]
    strict = verify_outputs(items[:2], strict=True)
    assert [v.correct for v in strict] == [False, False]  # a Counter is not a dict
    long = "def f():\n    return list(range(8000))\n"  # a 39k-char repr: cut by the sandbox
    assert verify_outputs([(long, "", repr(list(range(8000))))], strict=True)[0].correct
    assert verify_outputs([(big, "", repr(list(range(20000))))])[0].reason == "too_long"


def test_program_shadowing_builtins_does_not_change_the_check() -> None:
    shadow = (
        "def type(x):\n    return int\n"
        "def isinstance(a, b):\n    return True\n"
        "set = list\nlen = lambda x: 0\nbool = lambda x: True\nrepr = lambda x: '1'\n"
        "def f(x):\n    return [x, 2.0]\n"
    )
    assert verify_output(shadow, "1", "[1, 2.0]", strict=True).correct
    assert not verify_output(shadow, "1", "[1, 2]", strict=True).correct
    assert verify_output(shadow, "1", "[True, 2.0]").correct  # 1 == True without strict
    assert verify_input(shadow, "[{1}, 2.0]", "{1}", strict=True).correct
    assert not verify_input(shadow, "[{1}, 2.0]", "{True}", strict=True).correct


def test_gi_frame_walk_of_issue_15_is_refused() -> None:
    """On the old judge this scored as correct: the argument rebound the check's helper."""
    double = "def f(x):\n    return x * 2\n"
    attack = "(i for i in ()).gi_frame.f_globals.update(__stepcode_fresh=lambda s: {'f': lambda x: 6}) or 5"
    v = verify_input(double, "6", attack)
    assert not v.correct and v.reason == "not_a_value"
