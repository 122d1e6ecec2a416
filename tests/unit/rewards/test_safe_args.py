"""safe_args.check_call: arbitrary text never raises; what it accepts is one call of literal-ish args."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from stepcode.rewards.safe_args import check_call

ATOMS = ["1", "-2", "'a'", "[1, 2]", "(1,)", "{1: 2}", "x", "f", "__import__", "os", "dict",
         "range", "lambda y: y", "SEEN", "exit", "globals()", ".upper()", "._x", "**", "*", ",",
         ")", "(", ";", "\n", ":=", " if ", " else ", "[", "]", "=", "1e999", "...", "type"]  # fmt: skip
CODE = "SEEN = []\ndef f(a=0, b=0):\n    return a\n"


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.sampled_from(ATOMS), max_size=12) | st.lists(st.text(max_size=8), max_size=4)
)
def test_never_raises_and_accepts_only_one_safe_call(parts: list[str]) -> None:
    text = f"f({''.join(parts)})"
    args, reason = check_call(text, "f", CODE)
    if args is None:
        assert reason in {"not_a_call", "unsafe_expression", "too_long", "not_literal"}
        return
    tree = ast.parse(f"f({args})", mode="eval").body
    assert isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "f"
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - {"f"}
    assert not names & {"__import__", "os", "exit", "globals", "type", "f"}
    assert not any(isinstance(n, ast.Attribute) and n.attr.startswith("_") for n in ast.walk(tree))
    assert check_call(f"f({args})", "f", CODE) == (args, "ok")  # re-serialising is a fixed point


def test_entry_point_cannot_be_referenced_or_rebound() -> None:
    for args in ["f", "lambda f: 1", "[f for f in range(2)]", "(f := 1)", "g(1)", "*[1]"]:
        assert check_call(f"f({args})", "f", CODE)[0] is None, args
    assert check_call("f(1)\nf(2)", "f")[0] is None
    assert check_call("f(1); f(2)", "f")[0] is None
    assert check_call("g(1)", "f")[1] == "not_a_call"
    assert check_call("f(" + "1," * 20_000 + ")", "f")[1] == "too_long"
