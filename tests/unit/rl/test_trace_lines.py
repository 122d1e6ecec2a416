"""rl.steps.row_steps(trace_lines="exact", the default): a right answer after a padded (or short)
trace earns no terminal reward, so the group term pushes the padding down; ``free`` keeps Eq. 9 as
written."""

from __future__ import annotations

import pytest
import torch

from stepcode.rl.advantages import step_advantages
from stepcode.rl.steps import row_steps, stack_rows
from stepcode.types import Parsed, Reward

# "a: 1\nreturn: 1\nreturn: 1\n<answer>": two anchors, the last line stated twice
PADDED = Parsed(ok=True, steps=(("a", "1"), ("return", "1"), ("return", "1")),
                step_spans=((0, 4), (5, 14), (15, 24)), answer_span=(25, 33))  # fmt: skip
CLEAN = Parsed(ok=True, steps=(("a", "1"), ("return", "1")), step_spans=((0, 4), (5, 14)),
               answer_span=(15, 23))  # fmt: skip
SHORT = Parsed(ok=True, steps=(("a", "1"),), step_spans=((0, 4),), answer_span=(5, 13))


def _reward(parse: Parsed, steps: tuple[float, ...] = (1.0, 1.0)) -> Reward:
    return Reward(outcome=1.0, steps=steps, step_mask=(True,) * len(steps), parse=parse)


def test_exact_zeroes_the_terminal_reward_of_padded_and_short_traces():
    assert row_steps(_reward(PADDED), (), trace_lines="free").rewards == (1.0, 1.0, 1.0)  # Eq. 9
    assert row_steps(_reward(PADDED), ()).rewards == (1.0, 1.0, 0.0)  # exact is the default
    assert row_steps(_reward(SHORT, (1.0, 0.0)), (), trace_lines="exact").rewards == (1.0, 0.0, 0.0)
    assert row_steps(_reward(CLEAN), (), trace_lines="exact").rewards == (1.0, 1.0, 1.0)
    # no anchors (plain tasks) or no parse: nothing to compare, the outcome stands
    assert row_steps(Reward(outcome=1.0, parse=PADDED), (), trace_lines="exact").rewards == (1.0,)
    assert row_steps(Reward(outcome=1.0, steps=(1.0,)), (), trace_lines="exact").rewards[-1] == 1.0
    with pytest.raises(ValueError, match="trace_lines"):
        row_steps(_reward(CLEAN), (), trace_lines="loose")  # type: ignore[arg-type]


def test_padding_gets_a_negative_terminal_advantage_in_its_group():
    # G=2, both right with right anchors; sample 1 pads its trace. By hand: terminal column
    # (1, 0) -> mean .5, unbiased std .7071 -> (+.7071, -.7071); anchors all 1 -> 0.
    rows = [row_steps(_reward(CLEAN), (), trace_lines="exact"),
            row_steps(_reward(PADDED), (), trace_lines="exact")]  # fmt: skip
    batch = stack_rows(rows, [0, 0], 1)
    adv = step_advantages(batch.step_rewards, batch.step_mask, mode="step", eps=0.0)
    assert torch.allclose(adv[0, :, -1], torch.tensor([0.70710678, -0.70710678]))
    assert torch.equal(adv[0, :, :2], torch.zeros(2, 2))
    free = stack_rows([row_steps(_reward(CLEAN), (), trace_lines="free"),
                       row_steps(_reward(PADDED), (), trace_lines="free")], [0, 0], 1)  # fmt: skip
    assert torch.equal(step_advantages(free.step_rewards, free.step_mask, mode="step"),
                       torch.zeros(1, 2, 3))  # fmt: skip
