"""End-to-end sanity of the algorithm core: sample -> step rewards -> bi-level advantages -> PPO-clip
loss -> AdamW on a real tiny model must raise the rewarded step accuracies (signs, masks, offsets).

Toy task: a completion of 3 tokens; step k (k = 0, 1) is correct when token k has an even id, the
outcome when token 2 has an even id (or, to compare with outcome-only GRPO, an odd one: rewarding
even ids at position 2 also raises them at positions 0-1 through the shared output head, which
taught outcome-only GRPO the steps by accident). At init each is a coin flip.
"""

from __future__ import annotations

import pytest
import torch

from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rl.logprobs import pack_rollouts, token_logprobs
from stepcode.rl.loss import policy_loss
from stepcode.rl.steps import AdvantageSpec, batch_token_advantages, row_steps, stack_rows
from stepcode.rollout.generate import derive_seed, sample_group
from stepcode.rollout.params import SamplingParams
from stepcode.types import Parsed, Reference, Reward, Task, TaskKind


def _score(rollout, outcome_parity: int) -> Reward:
    ids, offs = rollout.completion_ids, rollout.completion_offsets
    even = [float(i % 2 == 0) for i in ids[:2]] + [0.0] * (2 - len(ids[:2]))
    outcome = float(len(ids) > 2 and ids[2] % 2 == outcome_parity)
    parsed = Parsed(
        ok=True, step_spans=tuple(offs[:2]), answer_span=offs[2] if len(offs) > 2 else None
    )
    return Reward(outcome=outcome, steps=(even[0], even[1]), step_mask=(True, True), parse=parsed)


def _train(mode: str, steps: int, outcome_parity: int = 0) -> tuple[list[float], list[float]]:
    tok = train_tokenizer(["abc def ghi jkl mno pqr stu vwx yz " * 3] * 20, vocab_size=300)
    model = build_tiny_model(tok, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    tasks = [
        Task(
            task_id=f"t{i}",
            kind=TaskKind.OUTPUT,
            prompt=p,
            reference=Reference(code="", input_args="", output=""),
        )
        for i, p in enumerate(["abc", "def ghi"])
    ]
    cfg = SamplingParams(n=8, max_tokens=3, temperature=1.0)
    G = 8
    first, last = [], []
    for step in range(steps):
        seeds = [derive_seed(1, step, b, g) for b in range(len(tasks)) for g in range(G)]
        rollouts = sample_group(model, tok, tasks, cfg, seeds=seeds, chat=False)
        rewards = [_score(r, outcome_parity) for r in rollouts]
        acc = [
            sum(r.steps[0] for r in rewards) / len(rewards),
            sum(r.steps[1] for r in rewards) / len(rewards),
        ]
        (first if step < 3 else last if step >= steps - 3 else []).append(sum(acc) / 2)
        batch = pack_rollouts(rollouts, tok.pad_token_id)
        rows = [row_steps(w, r.completion_offsets) for r, w in zip(rollouts, rewards, strict=True)]
        steps_batch = stack_rows(
            rows, [r.task_id for r in rollouts], batch.completion_mask.shape[1]
        )
        adv = batch_token_advantages(steps_batch, batch.completion_mask, AdvantageSpec(mode=mode))
        lp = token_logprobs(model, batch.input_ids, batch.attention_mask, batch.completion_mask)
        loss, _ = policy_loss(lp, lp.detach(), adv, batch.completion_mask)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return first, last


def test_bilevel_grpo_learns_the_rewarded_steps():
    first, last = _train("bilevel", steps=25)
    before, after = sum(first) / len(first), sum(last) / len(last)
    assert after > before + 0.2 and after > 0.75, (before, after)


@pytest.mark.slow
def test_step_rewards_teach_steps_that_outcome_only_grpo_does_not():
    _, bilevel = _train("bilevel", steps=25, outcome_parity=1)
    _, terminal = _train("terminal", steps=25, outcome_parity=1)
    assert sum(bilevel) / 3 > sum(terminal) / 3 + 0.1, (bilevel, terminal)
