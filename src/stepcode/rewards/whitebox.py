"""Judging white-box answers (the questions come from ``tasks.whitebox.make_questions``).

One line of model text per question, scored against ``Question.answers`` (every accepted answer):

* ``value_type``: ``<value>; <type name>``. The type names must agree (``int``, ``<class 'int'>``
  and ``list[int]`` all read as their head name); the value is parsed as a value
  (``rewards.values.parse_value``, bounded, never run) and compared with the recorded one by
  ``rewards.equality.same_value``, the equality every judge uses. When the recorded value is not
  a plain value (an object repr), the texts are compared, memory addresses dropped.
* ``next_line`` / ``path``: the verbatim stripped source of a line, or ``-1``.
* ``coverage``: REval's rule, upper-cased and read at the start: ``YES`` or ``NO``, not both.
"""

from __future__ import annotations

from stepcode.rewards.equality import same_value_repr
from stepcode.types import Question


def score_answer(question: Question, answer: str) -> float:
    """1.0 if ``answer`` (one line of model text) is right for ``question``. Never raises."""
    try:
        return 1.0 if _correct(question, answer.strip().strip("`").strip()) else 0.0
    except Exception:  # noqa: BLE001 - model output must never crash scoring
        return 0.0


def _correct(q: Question, answer: str) -> bool:
    if q.kind == "coverage":  # REval: upper-case, look at the start; YES and NO are exclusive
        head = answer.upper()
        yes, no = head.startswith("YES"), head.startswith("NO")
        return yes != no and ("YES" if yes else "NO") == q.answers[0]
    if q.kind in ("next_line", "path"):
        return answer in q.answers
    if q.kind == "value_type":
        return any(same_value_text(answer, a) for a in q.answers)
    return False


def same_value_text(answer: str, truth: str) -> bool:
    """Does ``<value>; <type>`` text ``answer`` state the recorded ``truth`` (same format)?"""
    value, sep, typ = answer.rpartition(";")
    t_value, _, t_type = truth.rpartition(";")
    if not sep or _type_name(typ) != _type_name(t_type):
        return False
    return same_value_repr(value.strip(), t_value.strip())


def _type_name(t: str) -> str:
    t = t.strip().strip("`").strip()
    if t.startswith("<class '") and t.endswith("'>"):
        t = t[8:-2]
    return t.split("[", 1)[0].strip()
