"""One type-strict equality: every judge that compares values says the same on the same pair.

Paths: ``same_value`` itself; an anchor step (``step_correct``); a white-box ``value; type``
answer (``score_answer``); a strict verdict compared on the trusted side (the program's result
comes back as a value); a strict verdict compared inside the sandbox (the prediction names a
program function, so the comparison runs where the program runs, with ``same_value``'s source).
"""

from __future__ import annotations

import pytest

from stepcode.rewards import same_value, score_answer, step_correct, verify_outputs
from stepcode.types import AnchorHit, Question

PAIRS = [  # (value the program produced, value predicted, same?)
    ([1, True], [1, 1], False),
    (1, 1.0, False),
    (1, True, False),
    (0, False, False),
    ({1}, {1.0}, False),
    ({1: "a"}, {True: "a"}, False),
    ({frozenset({1})}, {frozenset({True})}, False),
    ({(1, 2.0)}, {(1, 2)}, False),
    ((1, [2.0]), (1, [2.0]), True),
    ({"a": [1, {2}]}, {"a": [1, {2}]}, True),
    ({1: 2, 3: 4}, {3: 4, 1: 2}, True),
    ({2, 1}, {1, 2}, True),
    ([], (), False),
    (set(), frozenset(), False),
    (0.1 + 0.2, 0.3, False),
    (-0.0, 0.0, True),
    ("a", b"a", False),
    (range(0, 3), range(3), True),
    (None, None, True),
    ((1,), [1], False),
    ({"k": (1, True)}, {"k": (1, 1)}, False),
]
CASES = [pytest.param(a, b, same, id=f"{a!r}~{b!r}") for a, b, same in PAIRS]


@pytest.mark.parametrize(("got", "pred", "same"), CASES)
def test_same_value_and_text_judges_agree(got: object, pred: object, same: bool) -> None:
    assert same_value(got, pred) is same
    assert same_value(pred, got) is same
    assert step_correct(("x", repr(pred)), AnchorHit(name="x", value=repr(got))) == float(same)
    name = type(got).__name__
    q = Question(kind="value_type", line=1, var="x", text="", answers=(f"{got!r}; {name}",))
    assert score_answer(q, f"{pred!r}; {name}") == float(same)


def test_strict_verdicts_agree_on_both_sides_of_the_sandbox() -> None:
    trusted = [(f"def f():\n    return {got!r}\n", "", repr(pred)) for got, pred, _ in PAIRS]
    in_sandbox = [
        (f"def g():\n    pass\n\ndef f():\n    return ({got!r}, g)\n", "", f"({pred!r}, g)")
        for got, pred, _ in PAIRS
    ]
    want = [same for *_, same in PAIRS]
    assert [v.correct for v in verify_outputs(trusted, strict=True)] == want
    assert [v.correct for v in verify_outputs(in_sandbox, strict=True)] == want
    plain = [v.correct for v in verify_outputs(trusted)]
    assert plain == [bool(got == pred) for got, pred, _ in PAIRS]  # == where not strict
    assert [v.correct for v in verify_outputs(in_sandbox)] == plain
