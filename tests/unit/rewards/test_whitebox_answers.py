"""White-box answers are judged REval-style, with the judges' one equality (rewards.whitebox)."""

from __future__ import annotations

from stepcode.rewards.whitebox import score_answer
from stepcode.types import Question


def test_score_answer_rules() -> None:
    vt = Question(kind="value_type", line=5, var="total", text="", answers=("2; int",))
    assert score_answer(vt, "2; int") == 1.0
    assert score_answer(vt, "`2; <class 'int'>`") == 1.0
    assert score_answer(vt, "2.0; int") == 0.0  # typed literal equality
    assert score_answer(vt, "2; float") == 0.0
    assert score_answer(vt, "2") == 0.0
    cov = Question(kind="coverage", line=7, text="", answers=("NO",))
    assert score_answer(cov, "no") == 1.0 and score_answer(cov, "NO.") == 1.0
    assert score_answer(cov, "YES") == 0.0 and score_answer(cov, "maybe") == 0.0
    path = Question(kind="path", line=4, text="", answers=("for x in xs:", "total += x"))
    assert score_answer(path, "  total += x ") == 1.0 and score_answer(path, "return res") == 0.0
    assert score_answer(path, "\x00" * 10_000) == 0.0
    assert score_answer(vt, "[2]; int") == 0.0 and score_answer(vt, "__import__('os'); int") == 0.0


def test_value_type_is_strict_all_the_way_down() -> None:
    """The same pair an anchor step refuses is refused here too (they disagreed before)."""
    vt = Question(kind="value_type", line=1, var="x", text="", answers=("[1, True]; list",))
    assert score_answer(vt, "[1, True]; list") == 1.0
    assert score_answer(vt, "[1, 1]; list") == 0.0
    obj = Question(kind="value_type", line=1, var="x", text="", answers=("<Node object>; Node",))
    assert score_answer(obj, "<Node object at 0x7f00>; Node") == 1.0  # addresses dropped
    assert score_answer(vt, "'a' * 10**9; list") == 0.0
