"""Scored completions -> step tensors -> token advantages: the one path every trainer takes.

The native trainer (``rl.grpo``), verl (``rl.verl_plugin``: the reward worker builds ``RowSteps``,
ships them as JSON, the estimator stacks them) and TRL all call these three functions, so the layout
exists once:

1. ``row_steps(reward, token_offsets)`` -> ``RowSteps``: one response's anchor rewards, then the
   terminal reward at index ``n`` (``Reward.outcome``, Eq. 9, or ``Reward.scalar``), and the step of
   each of its tokens (``rl.segment.segment_completion`` on ``Reward.parse``'s spans; ``n`` =
   terminal). JSON round-trippable, validated when read back.
2. ``stack_rows(rows, group_ids, length)`` -> ``StepBatch``: rows grouped by ``group_ids`` (the G
   samples of one prompt; any order), anchors at ``0..n-1`` and the terminal step moved to the last
   index ``S - 1`` as ``rl.advantages`` expects; short groups and missing steps are masked.
3. ``batch_token_advantages(batch, completion_mask, spec)`` -> ``[N, L]``: ``rl.advantages``'
   pure functions (``step_advantages`` then ``token_advantages``) with the settings of
   ``AdvantageSpec``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from stepcode.rl.advantages import IntraForm, Mode, TokenRule, step_advantages, token_advantages
from stepcode.rl.segment import segment_completion
from stepcode.types import Reward

Span = tuple[int, int]
TraceLines = Literal["free", "exact"]


@dataclass(frozen=True)
class RowSteps:
    """One response's step rewards and the step of each of its tokens (terminal = index ``n``)."""

    rewards: tuple[float, ...]
    """``[n + 1]`` anchor rewards, then the terminal reward"""
    mask: tuple[bool, ...]
    """``[n + 1]`` True where the step exists (the terminal step always does)"""
    token_to_step: tuple[int, ...]
    """``[T]`` step index of each response token, in ``0..n``"""

    def __post_init__(self) -> None:
        n = len(self.rewards) - 1
        if n < 0 or len(self.mask) != n + 1:
            raise ValueError(
                f"RowSteps: {len(self.rewards)} rewards but {len(self.mask)} mask bits"
            )
        if any(not 0 <= s <= n for s in self.token_to_step):
            raise ValueError(f"RowSteps: token steps must lie in 0..{n}")

    @property
    def n_anchors(self) -> int:
        return len(self.rewards) - 1

    def to_json(self) -> str:
        return json.dumps({"r": self.rewards, "m": self.mask, "t": self.token_to_step})

    @classmethod
    def from_json(cls, text: str) -> RowSteps:
        """Read back ``to_json``'s text; anything else raises ``ValueError`` (never trusted blindly)."""
        try:
            d = json.loads(text)
            r, m, t = d["r"], d["m"], d["t"]
        except (TypeError, KeyError, ValueError) as e:
            raise ValueError(f"not a stepcode step payload: {e}") from None
        ok = (
            all(isinstance(x, int | float) and not isinstance(x, bool) for x in r)
            and all(isinstance(x, bool) for x in m)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in t)
        )
        if not (isinstance(r, list) and isinstance(m, list) and isinstance(t, list) and ok):
            raise ValueError("not a stepcode step payload: wrong value types")
        return cls(tuple(float(x) for x in r), tuple(m), tuple(t))


def row_steps(
    reward: Reward,
    token_offsets: Sequence[Span],
    *,
    terminal_from: Literal["outcome", "scalar"] = "outcome",
    trace_lines: TraceLines = "exact",
) -> RowSteps:
    """``RowSteps`` of one scored response.

    Args:
        reward: its ``Reward`` (``Reward.parse`` gives the trace-line and answer spans; without a
            parse every token belongs to the terminal step).
        token_offsets: ``[T]`` char span of each response token in the completion text
            (``Rollout.completion_offsets``, ``rollout.detokenize.detokenize``).
        terminal_from: the terminal reward: ``outcome`` (Eq. 9) or ``scalar`` (the configured
            combination, e.g. with a format bonus).
        trace_lines: ``free``: trace lines beyond the anchors cost nothing (they belong to the
            terminal step); ``exact``: when a task has anchors and the response states a different
            number of trace lines, the terminal reward is 0 even if the answer is right. Without
            it, step-level credit lets a policy pad its trace (repeating the last line) at no
            cost until the answer is pushed out (measured: docs/results.md).
    """
    if terminal_from not in ("outcome", "scalar"):
        raise ValueError(f"terminal_from={terminal_from!r}: use 'outcome' or 'scalar'")
    n = len(reward.steps)
    mask = tuple(reward.step_mask) if len(reward.step_mask) == n else (True,) * n
    values = [float(s) if m else 0.0 for s, m in zip(reward.steps, mask, strict=True)]
    if trace_lines not in ("free", "exact"):
        raise ValueError(f"trace_lines={trace_lines!r}: use 'free' or 'exact'")
    terminal = reward.outcome if terminal_from == "outcome" else reward.scalar
    parse = reward.parse
    if trace_lines == "exact" and n and parse is not None and len(parse.steps) != n:
        terminal = 0.0
    spans = parse.step_spans if parse is not None else ()
    answer = parse.answer_span if parse is not None else None
    steps = segment_completion(token_offsets, spans, answer, n, n)
    return RowSteps((*values, float(terminal)), (*mask, True), tuple(steps))


@dataclass(frozen=True)
class StepBatch:
    """Rows stacked by group (``B`` groups of at most ``G`` rows, ``N`` rows, ``S`` steps)."""

    step_rewards: torch.Tensor
    """``[B, G, S]`` float32; the terminal reward at ``S - 1``"""
    step_mask: torch.Tensor
    """``[B, G, S]`` bool"""
    token_to_step: torch.Tensor
    """``[N, L]`` long, -1 past a row's tokens; the terminal step is ``S - 1``"""
    row_of: torch.Tensor
    """``[B, G]`` long: the row of group ``b``'s ``g``-th sample, -1 where a group is short"""


def stack_rows(rows: Sequence[RowSteps], group_ids: Sequence[Hashable], length: int) -> StepBatch:
    """Stack ``N`` rows into ``StepBatch`` tensors, grouping rows with equal ``group_ids``.

    Groups are numbered by first appearance; within a group rows keep their order. Token steps
    beyond ``length`` are cut.
    """
    if len(rows) != len(group_ids):
        raise ValueError(f"{len(rows)} rows but {len(group_ids)} group ids")
    groups: dict[Hashable, list[int]] = {}
    for i, gid in enumerate(group_ids):
        groups.setdefault(gid, []).append(i)
    order = list(groups.values())
    B, G = len(order), max((len(g) for g in order), default=0)
    S = max((len(r.rewards) for r in rows), default=1)
    rewards = torch.zeros(B, G, S)
    mask = torch.zeros(B, G, S, dtype=torch.bool)
    row_of = torch.full((B, G), -1, dtype=torch.long)
    tts = torch.full((len(rows), length), -1, dtype=torch.long)
    for b, members in enumerate(order):
        for g, i in enumerate(members):
            row, n = rows[i], rows[i].n_anchors
            row_of[b, g] = i
            rewards[b, g, :n] = torch.tensor(row.rewards[:n])
            mask[b, g, :n] = torch.tensor(row.mask[:n], dtype=torch.bool)
            rewards[b, g, S - 1] = row.rewards[n]
            mask[b, g, S - 1] = True
            steps = torch.tensor(row.token_to_step[:length], dtype=torch.long)
            tts[i, : len(steps)] = torch.where(steps == n, S - 1, steps)
    return StepBatch(rewards * mask, mask, tts, row_of)


@dataclass(frozen=True, kw_only=True)
class AdvantageSpec:
    """How step rewards become advantages (``rl.advantages``; ``GRPOConfig.advantage_spec``)."""

    mode: Mode = "bilevel"
    lam: float = 0.3
    """weight of the intra-trajectory term (bilevel only)"""
    token_rule: TokenRule = "span"
    eps: float = 1e-6
    norm_by_std: bool = True
    intra: IntraForm = "paper"
    """Eq. 11 as written (``paper``, never negative) or minus its group mean (``centred``)"""


def row_step_advantages(batch: StepBatch, spec: AdvantageSpec) -> torch.Tensor:
    """``[N, S]`` float32 step advantages of each row (``rl.advantages.step_advantages``)."""
    adv = step_advantages(
        batch.step_rewards,
        batch.step_mask,
        lam=spec.lam,
        mode=spec.mode,
        eps=spec.eps,
        norm_by_std=spec.norm_by_std,
        intra=spec.intra,
    )  # [B, G, S] fmt: skip
    per_row = torch.zeros(batch.token_to_step.shape[0], adv.shape[-1])
    present = batch.row_of >= 0
    per_row[batch.row_of[present]] = adv[present]
    return per_row


def batch_token_advantages(
    batch: StepBatch, completion_mask: torch.Tensor, spec: AdvantageSpec
) -> torch.Tensor:
    """``[N, L]`` float32 token advantages: each token gets its step's advantage (``spec``).

    Args:
        batch: ``stack_rows``' output.
        completion_mask: ``[N, L]`` bool, True for the response tokens that count.
        spec: the estimator's settings.
    """
    per_row = row_step_advantages(batch, spec).to(completion_mask.device)
    tts = batch.token_to_step.to(completion_mask.device)
    return token_advantages(per_row, tts, completion_mask.bool(), spec.token_rule)
