"""The one summary of scored samples: final accuracy, step accuracy, their gap, and hacking.

Every caller that reports these numbers uses ``summarize``: the trainer's held-out evaluation and
GRPO metrics, ``eval run``'s ``cruxeval-*-aligned`` benchmarks, and the verl / TRL adapters. The
definitions (StepCodeReasoner Table 6 quantities):

* ``final_acc``: mean outcome over all samples (unparsable ones count as wrong);
* ``step_acc``: mean over the samples that have ground-truth steps of (steps predicted right /
  ground-truth steps). Extra predicted lines do not enlarge the denominator, but they make the
  sample's steps wrong for ``right_answer_wrong_steps``; a missing line is a wrong step;
* ``gap``: ``final_acc - step_acc``;
* ``right_answer_wrong_steps``: share of samples whose answer is right but whose steps are not all
  right (the audit class of ``rewards.step_rewards``): reward hacking to watch;
* ``format_ok``: share of samples whose answer could be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from stepcode.types import Reward


@dataclass(frozen=True, kw_only=True)
class RewardSummary:
    n: int
    final_acc: float
    step_acc: float
    """0.0 when no sample has ground-truth steps (plain tasks): see ``n_with_steps``"""
    gap: float
    right_answer_wrong_steps: float
    format_ok: float
    n_with_steps: int

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": float(v) for k, v in asdict(self).items()}


def sample_step_acc(reward: Reward) -> float | None:
    """Share of one sample's ground-truth steps predicted right (None when it has none)."""
    mask = reward.step_mask if len(reward.step_mask) == len(reward.steps) else ()
    valid = [s for k, s in enumerate(reward.steps) if not mask or mask[k]]
    return sum(valid) / len(valid) if valid else None


def summarize(rewards: Sequence[Reward]) -> RewardSummary:
    """The Table-6 numbers of ``rewards`` (see the module docstring for each definition)."""
    n = len(rewards)
    per_sample = [a for a in (sample_step_acc(r) for r in rewards) if a is not None]
    final = sum(r.outcome for r in rewards) / n if n else 0.0
    step = sum(per_sample) / len(per_sample) if per_sample else 0.0
    return RewardSummary(
        n=n,
        final_acc=final,
        step_acc=step,
        gap=final - step,
        right_answer_wrong_steps=sum(r.audit == "right_answer_wrong_steps" for r in rewards) / n
        if n
        else 0.0,
        format_ok=sum(r.format_ok for r in rewards) / n if n else 0.0,
        n_with_steps=len(per_sample),
    )
