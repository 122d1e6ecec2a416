"""strict=True (REval's type rule) never accepts what plain ``==`` rejects, and checks types of
list/tuple items, set elements and dict keys and values."""

from __future__ import annotations

from stepcode.rewards import verify_outputs

IDENTITY = "def f(x):\n    return x\n"


def test_strict_is_never_looser_than_plain() -> None:
    add = "def f(x):\n    return x + 0.2\n"
    items = [(add, "0.1", "0.3"), (add, "0.1", "0.30000000000000004")]
    plain = [v.correct for v in verify_outputs(items)]
    strict = [v.correct for v in verify_outputs(items, strict=True)]
    assert plain == strict == [False, True]


def test_strict_types_all_the_way_down() -> None:
    cases = [  # (true value as program input, prediction, plain ==, strict)
        ("{1.0}", "{1}", True, False),
        ("{1: 1}", "{True: 1}", True, False),
        ("{1: [1.5, 'a'], 'b': None}", "{'b': None, 1: [1.5, 'a']}", True, True),
        ("[(1, [True])]", "[(1, [1])]", True, False),
        ("{1, (2, 3.0)}", "{1, (2, 3.0)}", True, True),
        ("frozenset({1})", "frozenset({1})", True, True),  # an allow-listed constructor
        ("frozenset({1})", "frozenset({True})", True, False),
        ("(1, 2)", "[1, 2]", False, False),
    ]
    items = [(IDENTITY, value, pred) for value, pred, _, _ in cases]
    assert [v.correct for v in verify_outputs(items)] == [c[2] for c in cases]
    assert [v.correct for v in verify_outputs(items, strict=True)] == [c[3] for c in cases]


def test_step_values_typed_inside_sets_and_dict_keys() -> None:
    from stepcode.rewards import step_correct
    from stepcode.types import AnchorHit

    cases = [  # (truth, predicted, right)
        ("{1}", "{1.0}", 0.0),
        ("{1: 2}", "{True: 2}", 0.0),
        ("{1: 2}", "{1: 2, 3: 4}", 0.0),
        ("{1, 2}", "{2, 1}", 1.0),
        ("{1: 2, 'a': [1.5]}", "{'a': [1.5], 1: 2}", 1.0),
    ]
    for truth, pred, want in cases:
        assert step_correct(("x", pred), AnchorHit(name="x", value=truth)) == want, (truth, pred)
