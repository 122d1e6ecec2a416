"""rl.steps: scored records -> step tensors -> token advantages, the path every trainer takes."""

from __future__ import annotations

import pytest
import torch

from stepcode.rl.advantages import step_advantages
from stepcode.rl.steps import (
    AdvantageSpec,
    RowSteps,
    batch_token_advantages,
    row_step_advantages,
    row_steps,
    stack_rows,
)
from stepcode.types import Parsed, Reward

TEXT = "a: 1\nans"
OFFSETS = ((0, 4), (4, 5), (5, 8), (8, 8))  # line, newline, answer, EOS
PARSE = Parsed(ok=True, steps=(("a", "1"),), step_spans=((0, 4),), answer_span=(5, 8))


def _row(outcome: float, steps: tuple[float, ...], layout: list[int]) -> RowSteps:
    return RowSteps((*steps, outcome), (True,) * (len(steps) + 1), tuple(layout))


def test_row_steps_maps_spans_from_the_reward_parse():
    rew = Reward(outcome=1.0, steps=(0.0,), step_mask=(True,), scalar=0.55, parse=PARSE)
    row = row_steps(rew, OFFSETS)
    assert row == RowSteps((0.0, 1.0), (True, True), (0, 1, 1, 1))  # answer, newline, EOS: terminal
    assert row_steps(rew, OFFSETS, terminal_from="scalar").rewards == (0.0, 0.55)
    unparsed = row_steps(Reward(outcome=0.0, steps=(1.0, 1.0)), OFFSETS)
    assert unparsed.token_to_step == (2, 2, 2, 2)  # no parse: every token is the terminal step
    masked = row_steps(Reward(outcome=1.0, steps=(1.0, 1.0), step_mask=(True, False)), ())
    assert masked.rewards == (1.0, 0.0, 1.0) and masked.mask == (True, False, True)


def test_json_round_trip_and_malformed_payloads_are_refused():
    row = _row(1.0, (1.0, 0.0), [0, 1, 2])
    assert RowSteps.from_json(row.to_json()) == row
    for bad in ("", "[]", '{"r": [1], "m": [true]}', '{"r": ["1"], "m": [true], "t": []}',
                '{"r": [1], "m": [1], "t": []}', '{"r": [1], "m": [true], "t": [5]}',
                '{"r": [], "m": [], "t": []}'):  # fmt: skip
        with pytest.raises(ValueError):
            RowSteps.from_json(bad)


def test_stack_rows_groups_by_id_in_any_order_and_pads():
    rows = [_row(1, (1,), [0, 1]), _row(0, (1, 0, 1), [0, 1, 2, 3, 3]), _row(0, (0,), [1])]
    batch = stack_rows(rows, ["x", "y", "x"], length=4)
    assert batch.step_rewards.shape == (2, 2, 4)  # B=2 groups, G=2, S = 3 anchors + terminal
    assert batch.row_of.tolist() == [[0, 2], [1, -1]]
    assert batch.step_mask[0, :, 1:3].sum() == 0 and batch.step_mask[0, :, 3].all()
    assert not batch.step_mask[1, 1].any()  # the short group's missing sample
    assert batch.token_to_step.tolist() == [[0, 3, -1, -1], [0, 1, 2, 3], [3, -1, -1, -1]]


def test_row_advantages_do_not_depend_on_row_order_or_batch_mates():
    rows = [_row(o, s, [0, len(s)]) for o, s in [(1, (1,)), (0, (1,)), (1, (0,))]]
    rows += [_row(o, s, [0, 1, 2, 3]) for o, s in [(1, (1, 1, 0)), (1, (1, 0, 0)), (0, (0, 0, 0))]]
    groups = [0, 0, 0, 1, 1, 1]
    spec = AdvantageSpec(mode="bilevel", lam=0.3)
    adv = row_step_advantages(stack_rows(rows, groups, 4), spec)
    perm = [5, 0, 3, 1, 4, 2]
    shuffled = row_step_advantages(
        stack_rows([rows[i] for i in perm], [groups[i] for i in perm], 4), spec
    )
    assert torch.allclose(shuffled, adv[perm])
    alone = row_step_advantages(stack_rows(rows[:3], groups[:3], 4), spec)  # S = 2 alone
    assert torch.allclose(adv[:3][:, [0, 3]], alone)


def test_tokens_get_their_step_advantage():
    rewards = [Reward(outcome=1.0, steps=(1.0,), parse=PARSE), Reward(outcome=1.0, steps=(0.0,))]
    rows = [row_steps(r, OFFSETS) for r in rewards]
    batch = stack_rows(rows, ["t", "t"], length=5)
    mask = torch.tensor([[True] * 4 + [False]] * 2)
    tok = batch_token_advantages(batch, mask, AdvantageSpec(mode="step", lam=0.0))
    want = step_advantages(batch.step_rewards, batch.step_mask, mode="step")
    a = float(want[0, 0, 0])  # sample 0's anchor (+0.707); terminal 0 for both
    assert a == pytest.approx(0.70710, abs=1e-4)
    assert torch.allclose(tok[0], torch.tensor([a, 0, 0, 0, 0]))
    assert torch.equal(tok[1], torch.zeros(5))  # unparsed: all terminal; terminal adv is 0
