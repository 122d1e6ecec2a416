"""One Bi-Level GRPO step: rollout -> rewards -> step spans -> advantages -> PPO-clip update.

On-policy with a single update per rollout batch, so the sampling policy's log-probs equal the
current ones detached (ratio 1, clipping inactive on that update; ``clip_eps`` matters once
several updates reuse a batch). Randomness: one seed per (run seed, step, task, sample).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stepcode.rewards import score_batch
from stepcode.rewards.summary import summarize
from stepcode.rl.advantages import informative_groups
from stepcode.rl.config import TrainConfig
from stepcode.rl.logprobs import PackedBatch, pack_rollouts, token_logprobs
from stepcode.rl.loss import policy_loss
from stepcode.rl.steps import batch_token_advantages, row_steps, stack_rows
from stepcode.rollout.generate import derive_seed, sample_group
from stepcode.types import Reward, Rollout, Task, TaskKind


@dataclass(frozen=True, kw_only=True)
class StepResult:
    metrics: dict[str, float]
    rollouts: tuple[Rollout, ...]
    rewards: tuple[Reward, ...]
    tasks: tuple[Task, ...]


def select_tasks(tasks: Sequence[Task], n: int, seed: int, step: int) -> list[Task]:
    """The tasks of ``step``: a function of (seed, step) only (resume-safe)."""
    rng = random.Random(f"grpo:{seed}:{step}")
    return rng.sample(list(tasks), min(n, len(tasks)))


def grpo_step(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[Task],
    cfg: TrainConfig,
    optimizer: Any,
    step: int,
    ref_model: Any | None = None,
) -> StepResult:
    """Sample G completions for each task, score them, and take one policy-gradient step."""
    G, ro, g = cfg.rollout.group_size, cfg.rollout, cfg.grpo
    t0 = time.perf_counter()
    seeds = [derive_seed(cfg.run.seed, step, b, s) for b in range(len(tasks)) for s in range(G)]
    rollouts = sample_group(
        model,
        tokenizer,
        tasks,
        ro.sampling,
        seeds=seeds,
        batch_tasks=len(tasks),
        chat=cfg.model.chat,
    )
    t_sample = time.perf_counter()
    row_tasks = [t for t in tasks for _ in range(G)]
    completions = [r.completion for r in rollouts]
    rewards = score_batch(row_tasks, completions, cfg.reward)
    t_reward = time.perf_counter()

    device = next(model.parameters()).device
    batch = pack_rollouts(rollouts, tokenizer.pad_token_id).to(device)
    # code generation: the terminal reward is the scalar (fraction of tests passed + format bonus)
    terminal = ["scalar" if t.kind is TaskKind.CODEGEN else "outcome" for t in row_tasks]
    steps = stack_rows(
        [
            row_steps(w, r.completion_offsets, terminal_from=k, trace_lines=g.trace_lines)  # type: ignore[arg-type]
            for r, w, k in zip(rollouts, rewards, terminal, strict=True)
        ],  # fmt: skip
        [b for b in range(len(tasks)) for _ in range(G)],
        batch.completion_mask.shape[1],
    )
    adv = batch_token_advantages(steps, batch.completion_mask, g.advantage_spec)
    loss, stats = accumulate_policy_grad(model, batch, adv.to(device), cfg, ref_model)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    t_end = time.perf_counter()
    n_tokens = float(batch.completion_mask.sum())
    metrics = {
        **reward_metrics(rewards),
        "loss/policy": loss,
        "loss/kl": stats["kl"],
        "policy/clipfrac": stats["clipfrac"],
        "policy/approx_kl": stats["approx_kl"],
        "policy/ratio_mean": stats["ratio_mean"],
        "policy/entropy": stats["entropy"],
        **advantage_metrics(adv, batch.completion_mask, steps.step_rewards, steps.step_mask),
        "optim/grad_norm": float(norm),
        "rollout/len_mean": n_tokens / len(rollouts),
        "rollout/truncated_rate": sum(r.finish_reason == "length" for r in rollouts)
        / len(rollouts),
        "perf/tokens_per_s": n_tokens / max(1e-9, t_end - t0),
        "perf/sample_s": t_sample - t0,
        "perf/reward_s": t_reward - t_sample,
        "perf/update_s": t_end - t_reward,
        "perf/reward_share": (t_reward - t_sample) / max(1e-9, t_end - t0),
    }
    return StepResult(
        metrics=metrics, rollouts=tuple(rollouts), rewards=tuple(rewards), tasks=tuple(row_tasks)
    )


def accumulate_policy_grad(
    model: Any, batch: PackedBatch, adv: torch.Tensor, cfg: TrainConfig, ref_model: Any | None
) -> tuple[float, dict[str, float]]:
    """Backward the token-mean PPO-clip loss of all ``N`` rows in micro-batches of
    ``grpo.micro_batch`` rows (0 = all at once); gradients equal one full-batch backward.

    ``adv`` is ``[N, L]`` on the model's device. Returns the loss value and token-weighted
    ``kl``/``clipfrac``/``approx_kl``/``ratio_mean`` and ``entropy`` (mean negative log-prob of
    the sampled tokens). Does not step the optimizer.
    """
    g, temp = cfg.grpo, cfg.rollout.temperature
    n_rows = batch.input_ids.shape[0]
    rows = g.micro_batch or n_rows
    total = max(1.0, float(batch.completion_mask.sum()))
    loss_sum = 0.0
    stats = {"kl": 0.0, "clipfrac": 0.0, "approx_kl": 0.0, "ratio_mean": 0.0, "entropy": 0.0}
    model.train()
    for lo in range(0, n_rows, rows):
        ids, attn = batch.input_ids[lo : lo + rows], batch.attention_mask[lo : lo + rows]
        mask = batch.completion_mask[lo : lo + rows]
        lp = token_logprobs(model, ids, attn, mask, temperature=temp)
        ref_lp = None
        if ref_model is not None and g.kl_coef > 0:
            with torch.no_grad():
                ref_lp = token_logprobs(ref_model, ids, attn, mask, temperature=temp)
        loss, st = policy_loss(
            lp, lp.detach(), adv[lo : lo + rows], mask, clip_eps=g.clip_eps,
            ref_logprobs=ref_lp, kl_coef=g.kl_coef, num_tokens=total,
        )  # fmt: skip
        loss.backward()
        share = float(mask.sum()) / total
        loss_sum += float(loss.detach())
        for key in ("kl", "clipfrac", "approx_kl", "ratio_mean"):
            stats[key] += share * getattr(st, key)
        # sampled-token NLL: an unbiased estimate of the policy's entropy at the sampling temperature
        stats["entropy"] -= float((lp.detach() * mask).sum()) / total
    return loss_sum, stats


def advantage_metrics(
    adv: torch.Tensor, mask: torch.Tensor, step_rewards: torch.Tensor, step_mask: torch.Tensor
) -> dict[str, float]:
    """``adv/*`` over counted tokens (``adv`` ``[N, L]``, ``mask`` ``[N, L]``) and the share of
    groups with a signal (``step_rewards``/``step_mask`` ``[B, G, S]``): the outcome varies
    (what terminal GRPO learns from) or any step varies (step / Bi-Level)."""
    vals = adv[mask.bool()].float()
    inf = informative_groups(step_rewards, step_mask)  # [B, S]
    return {
        "adv/mean": float(vals.mean()) if vals.numel() else 0.0,
        "adv/abs_mean": float(vals.abs().mean()) if vals.numel() else 0.0,
        "adv/std": float(vals.std()) if vals.numel() > 1 else 0.0,
        "adv/zero_share": float((vals == 0).float().mean()) if vals.numel() else 0.0,
        "groups/informative_outcome": float(inf[:, -1].float().mean()) if inf.numel() else 0.0,
        "groups/informative_steps": float(inf.any(-1).float().mean()) if inf.numel() else 0.0,
    }


def reward_metrics(rewards: Sequence[Reward]) -> dict[str, float]:
    """``reward/*`` means over samples (``rewards.summary.summarize``) plus the scalar reward."""
    m = summarize(rewards)
    return {
        "reward/outcome": m.final_acc,
        "reward/scalar": sum(r.scalar for r in rewards) / max(1, len(rewards)),
        "reward/step_acc": m.step_acc,
        "reward/format_ok": m.format_ok,
        "reward/right_answer_wrong_steps": m.right_answer_wrong_steps,
    }
