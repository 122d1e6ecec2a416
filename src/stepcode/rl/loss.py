"""Token-level PPO-clip policy loss with optional k3 KL to a frozen reference (pure).

Objective (DeepSeekMath GRPO with verl's ``loss_agg_mode="token-mean"``), minimised:

    rho_t  = exp(logp_t - old_logp_t)
    pg_t   = -min(rho_t * A_t, clip(rho_t, 1 - eps_low, 1 + eps_high) * A_t)
    kl_t   = exp(ref_t - logp_t) - (ref_t - logp_t) - 1                    (k3, "low_var_kl")
    loss   = sum_t mask_t * (pg_t + beta * kl_t) / num_tokens

``num_tokens`` defaults to the masked token count of this micro-batch; pass the count of the whole
batch when accumulating gradients over micro-batches so every token weighs the same.

Deviations: none from verl's token-mean PPO-clip; the k3 log-ratio is clamped to [-20, 20] and the
per-token k3 value to at most 10 (verl's ``low_var_kl`` clamps the same way), so one wild token
cannot dominate. No dual-clip, no value loss, no entropy bonus.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LossStats:
    """Detached diagnostics of one ``policy_loss`` call (means over counted tokens)."""

    pg_loss: float
    """the clipped surrogate part of the loss"""
    kl: float
    """k3 KL to the reference (0 when no reference is given)"""
    clipfrac: float
    """share of tokens where the clipped branch was taken"""
    approx_kl: float
    """k3 estimate of KL(old || new): 0 on the first on-policy update"""
    ratio_mean: float
    """mean importance ratio"""


def k3_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimator of KL(pi || ref) (``[N, L]`` in, ``[N, L]`` out, >= 0)."""
    log_ratio = (ref_logprobs - logprobs).clamp(-20.0, 20.0)
    return (log_ratio.exp() - log_ratio - 1.0).clamp(max=10.0)


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_eps: float = 0.2,
    clip_eps_high: float | None = None,
    ref_logprobs: torch.Tensor | None = None,
    kl_coef: float = 0.0,
    num_tokens: float | None = None,
) -> tuple[torch.Tensor, LossStats]:
    """PPO-clip surrogate with token-mean aggregation (see the module docstring).

    Args:
        logprobs: ``[N, L]`` float, log-probs of the sampled tokens under the current policy
            (with grad).
        old_logprobs: ``[N, L]`` float, under the sampling policy (no grad).
        advantages: ``[N, L]`` float (``rl.advantages.token_advantages``).
        mask: ``[N, L]`` bool, True for completion tokens that count.
        clip_eps: lower clip range (and upper when ``clip_eps_high`` is None).
        clip_eps_high: upper clip range (DAPO "clip-higher"), optional.
        ref_logprobs: ``[N, L]`` float under the frozen reference, required when ``kl_coef > 0``.
        kl_coef: ``beta``; 0 disables the KL term.
        num_tokens: divisor for the token mean; defaults to ``mask.sum()``.

    Returns:
        ``(loss scalar with grad, LossStats)``.
    """
    if kl_coef > 0 and ref_logprobs is None:
        raise ValueError("kl_coef > 0 needs ref_logprobs")
    m = mask.to(logprobs.dtype)
    denom = float(num_tokens) if num_tokens is not None else m.sum().clamp(min=1.0)
    high = clip_eps if clip_eps_high is None else clip_eps_high
    adv = advantages.to(logprobs.dtype)
    log_ratio = logprobs - old_logprobs.detach()
    ratio = log_ratio.exp()
    unclipped = ratio * adv
    clipped = ratio.clamp(1.0 - clip_eps, 1.0 + high) * adv
    pg = -torch.minimum(unclipped, clipped)  # [N, L]
    per_token = pg
    kl = torch.zeros_like(pg)
    if ref_logprobs is not None:
        kl = k3_kl(logprobs, ref_logprobs.detach())
        if kl_coef > 0:
            per_token = pg + kl_coef * kl
    loss = (per_token * m).sum() / denom
    with torch.no_grad():
        count = m.sum().clamp(min=1.0)
        stats = LossStats(
            pg_loss=float((pg * m).sum() / count),
            kl=float((kl * m).sum() / count),
            clipfrac=float(((clipped < unclipped).to(m.dtype) * m).sum() / count),
            approx_kl=float(((ratio - 1.0 - log_ratio) * m).sum() / count),
            ratio_mean=float((ratio * m).sum() / count),
        )
    return loss, stats
