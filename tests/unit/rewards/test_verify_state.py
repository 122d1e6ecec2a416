"""verify_input: a predicted input cannot win by mutating the trusted program's module state."""

from __future__ import annotations

import pytest

from stepcode.rewards import verify_input, verify_inputs

STATEFUL = "SEEN = []\n\ndef f(x):\n    return len(SEEN) + x\n"


@pytest.mark.parametrize(
    "pred",
    [
        "SEEN.extend([0, 0, 0, 0]) or 1",  # method call on a module-level list
        "list.extend(SEEN, [0, 0, 0, 0]) or 1",  # the same through an unbound builtin method
        "[SEEN.append(0) for i in range(4)] and 1",
        "(lambda s: s.append(0) or s.append(0) or s.append(0) or s.append(0))(SEEN) or 1",
    ],
)
def test_mutating_module_state_does_not_pass(pred: str) -> None:
    assert verify_input(STATEFUL, "5", pred).correct is False
    assert verify_input(STATEFUL, "5", "5").correct is True  # the honest answer still passes


def test_module_names_and_keywords() -> None:
    """A name the program assigns and uses is never a prediction's to name (its value may be
    anything by the time the prediction is built); one assigned and used nowhere else is a
    constant and stands for its value (CRUXEval sample_258 passes ``thigh_o_two[:]``)."""
    glob = "X = [1]\nY = [1]\n\ndef f(a, k=2):\n    return (a + X) * k\n"
    verdicts = verify_inputs(
        [
            (glob, "[1, 1, 1, 1]", "X"),  # X is read by f: refused
            (glob, "[1, 1, 1, 1]", "Y"),  # Y is a constant: [1]
            (glob, "[1, 1, 1, 1]", "Y[:]"),
            (glob, "[2, 1, 2, 1, 2, 1]", "a=[2], k=3"),  # keywords named like the packer's own
            (glob, "[2, 1]", "[2], 1"),
            (glob, "[2, 1]", "[3], 1"),
        ]
    )
    assert [v.correct for v in verdicts] == [False, True, True, True, True, False]
    assert verdicts[0].reason == "unknown_name"
