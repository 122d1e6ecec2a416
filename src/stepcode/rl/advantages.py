"""Bi-Level GRPO advantages: pure functions on tensors (no model, no config, no logging).

Objective (StepCodeReasoner Eq. 10-12, methods.md §1.2). For one task with anchors ``i = 1..n`` and
a terminal step ``n+1`` (the final answer), G sampled completions ``g`` and rewards ``r[i, g]``:

    A_group(i, g) = (r[i, g] - mean_g' r[i, g']) / (std_g' r[i, g'] + eps)          (Eq. 10)
    A_intra(i, g) = r[i, g] * (1 + mean_{j > i} r[j, g]);   A_intra(last, g) = r[last, g]  (Eq. 11)
    A(i, g)       = A_group(i, g) + lam * A_intra(i, g)                               (Eq. 12)

Every token of step ``i``'s span gets ``A(i, g)`` (``token_advantages``), and the policy is trained
with the token-level PPO-clip surrogate in ``rl/loss.py``.

Layout. ``step_rewards`` / ``step_mask`` are ``[B, G, S]`` with the anchors at positions ``0..n-1``
(by ground-truth position, so index ``k`` means the same anchor in every sample of a group) and the
terminal step (the answer, reward = outcome) always at the LAST index ``S - 1``; positions between
``n`` and ``S - 1`` are masked. ``rl.steps`` builds this from ``Reward`` records.

Modes (``step_advantages``):
  * ``terminal``: plain outcome GRPO; every valid step (so every token) gets the group-normalised
    terminal reward.
  * ``step``: per-anchor group normalisation only (``lam = 0``).
  * ``bilevel``: ``A_group + lam * A_intra`` (the paper, lam = 0.3).
  * ``process``: DeepSeekMath process supervision: rewards normalised over ALL valid step rewards of
    the group, to be combined with ``token_advantages(..., rule="suffix_sum")``.

Deviations from the paper (numbered, deliberate):
  1. The terminal step is the final answer as an extra anchor ``n+1`` (methods.md §1.3(d)), so the
     intra term of the last real anchor also counts the answer's correctness.
  2. ``std`` is the unbiased (Bessel) group std, as in verl's ``compute_grpo_outcome_advantage`` and
     TRL; the paper does not say which.
  3. Groups where a step has zero variance (all samples equal) or fewer than two valid samples get a
     group term of exactly 0 (verl gives a single-sample group the raw score); never NaN.
  4. Masked steps (no ground-truth anchor, or padding) get 0 everywhere, and the intra "mean of
     later steps" averages only valid later steps.
  5. ``norm_by_std=False`` gives the Dr.GRPO variant (mean-centred only); not in the paper.
  6. ``intra="centred"`` subtracts the group mean of Eq. 11 per step (``centre_in_group``). Eq. 11
     as written is never negative, so it adds ``lam * mean_g A_intra`` to every group's mean
     advantage: it reinforces right steps even in groups where every sample is right (a
     self-imitation push the group term never gives). ``paper`` (the default) keeps the paper's form.
"""

from __future__ import annotations

from typing import Literal

import torch

Mode = Literal["terminal", "step", "bilevel", "process"]
TokenRule = Literal["span", "suffix_sum"]
IntraForm = Literal["paper", "centred"]
MODES: tuple[str, ...] = ("terminal", "step", "bilevel", "process")


def group_advantages(
    step_rewards: torch.Tensor,
    step_mask: torch.Tensor,
    eps: float = 1e-6,
    norm_by_std: bool = True,
) -> torch.Tensor:
    """Per-step normalisation across the G samples of each task (Eq. 10).

    Args:
        step_rewards: ``[B, G, S]`` float, ``r[b, g, s]``.
        step_mask: ``[B, G, S]`` bool, True where step ``s`` exists for sample ``g``.
        eps: added to the std.
        norm_by_std: divide by the std (GRPO) or only subtract the mean (Dr.GRPO).

    Returns:
        ``[B, G, S]`` float32: ``(r - mean_g) / (std_g + eps)`` over valid samples; 0 where masked,
        where fewer than 2 samples are valid, or where all valid samples have the same reward.
    """
    r = step_rewards.float() * step_mask
    m = step_mask.float()
    count = m.sum(dim=1, keepdim=True)  # [B, 1, S]
    mean = r.sum(dim=1, keepdim=True) / count.clamp(min=1)
    centred = (r - mean) * m
    var = (centred**2).sum(dim=1, keepdim=True) / (count - 1).clamp(min=1)
    big = torch.finfo(r.dtype).max
    hi = torch.where(step_mask, r, -big).amax(dim=1, keepdim=True)
    lo = torch.where(step_mask, r, big).amin(dim=1, keepdim=True)
    informative = (count >= 2) & (hi > lo)  # [B, 1, S]
    adv = centred / (var.sqrt() + eps) if norm_by_std else centred
    return torch.where(informative & step_mask, adv, torch.zeros_like(adv))


def informative_groups(step_rewards: torch.Tensor, step_mask: torch.Tensor) -> torch.Tensor:
    """Which (task, step) columns carry a group signal: >= 2 valid samples that differ.

    Args:
        step_rewards: ``[B, G, S]`` float.
        step_mask: ``[B, G, S]`` bool.

    Returns:
        ``[B, S]`` bool. ``[:, -1]`` is "the outcome varies" (terminal GRPO learns only from
        those groups); ``.any(-1)`` is "some step varies" (step / Bi-Level GRPO).
    """
    r = step_rewards.float()
    big = torch.finfo(r.dtype).max
    hi = torch.where(step_mask, r, -big).amax(dim=1)
    lo = torch.where(step_mask, r, big).amin(dim=1)
    return (step_mask.sum(dim=1) >= 2) & (hi > lo)


def intra_credit(step_rewards: torch.Tensor, step_mask: torch.Tensor) -> torch.Tensor:
    """Intra-trajectory shaping (Eq. 11): ``r_i * (1 + mean of the valid later step rewards)``.

    Args:
        step_rewards: ``[..., S]`` float (typically ``[B, G, S]``).
        step_mask: ``[..., S]`` bool.

    Returns:
        ``[..., S]`` float32; the last valid step gets ``r_last``; 0 where masked.
    """
    r = step_rewards.float() * step_mask
    m = step_mask.float()
    later_sum = _suffix_sum(r) - r  # [..., S] sum over j > i
    later_count = _suffix_sum(m) - m
    future = torch.where(later_count > 0, later_sum / later_count.clamp(min=1), 0.0)
    return r * (1.0 + future) * m


def centre_in_group(values: torch.Tensor, step_mask: torch.Tensor) -> torch.Tensor:
    """Subtract, per task and step, the mean over the group's valid samples.

    Args:
        values: ``[B, G, S]`` float (e.g. ``intra_credit``).
        step_mask: ``[B, G, S]`` bool.

    Returns:
        ``[B, G, S]`` float32 ``v - mean_g' v[g']`` over valid samples; 0 where masked. Summed
        over the group it is 0 for every step, so the term no longer shifts the mean advantage.
    """
    v = values.float() * step_mask
    m = step_mask.float()
    mean = v.sum(dim=1, keepdim=True) / m.sum(dim=1, keepdim=True).clamp(min=1)
    return (v - mean) * m


def process_advantages(
    step_rewards: torch.Tensor, step_mask: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """DeepSeekMath process supervision: normalise over all valid step rewards of each group.

    Args:
        step_rewards: ``[B, G, S]`` float.
        step_mask: ``[B, G, S]`` bool.

    Returns:
        ``[B, G, S]`` float32 ``(r - mean(R_b)) / (std(R_b) + eps)`` with ``R_b`` the pooled valid
        rewards of task ``b``; 0 where masked or when ``R_b`` has no spread. Use with
        ``token_advantages(..., rule="suffix_sum")`` for the paper's token rule.
    """
    B, G, S = step_rewards.shape
    flat_r = step_rewards.reshape(B, 1, G * S)  # pool the G*S rewards of each task as one "step"
    flat_m = step_mask.reshape(B, 1, G * S)
    adv = group_advantages(flat_r.transpose(1, 2), flat_m.transpose(1, 2), eps)  # [B, G*S, 1]
    return adv.reshape(B, G, S)


def step_advantages(
    step_rewards: torch.Tensor,
    step_mask: torch.Tensor,
    *,
    lam: float = 0.3,
    mode: Mode = "bilevel",
    eps: float = 1e-6,
    norm_by_std: bool = True,
    intra: IntraForm = "paper",
) -> torch.Tensor:
    """Per-step advantages ``[B, G, S]`` for one of the modes in the module docstring.

    Args:
        step_rewards: ``[B, G, S]`` float; the terminal (answer) reward at index ``S - 1``.
        step_mask: ``[B, G, S]`` bool; ``step_mask[..., S - 1]`` should be True.
        lam: weight of the intra term (``bilevel`` only; ``step`` is ``lam = 0``).
        mode: ``terminal`` | ``step`` | ``bilevel`` | ``process``.
        intra: ``paper``: Eq. 11 as written (never negative, so it raises the mean advantage of
            every group by ``lam`` times the mean intra credit); ``centred``: Eq. 11 minus its
            group mean per step (``centre_in_group``), zero-mean like the group term.

    Returns:
        ``[B, G, S]`` float32, 0 where masked.
    """
    if mode == "terminal":
        outcome = group_advantages(step_rewards[..., -1:], step_mask[..., -1:], eps, norm_by_std)
        return outcome.expand_as(step_rewards) * step_mask
    if mode == "step":
        return group_advantages(step_rewards, step_mask, eps, norm_by_std)
    if mode == "bilevel":
        group = group_advantages(step_rewards, step_mask, eps, norm_by_std)
        credit = intra_credit(step_rewards, step_mask)
        if intra == "centred":
            credit = centre_in_group(credit, step_mask)
        elif intra != "paper":
            raise ValueError(f"unknown intra form {intra!r}: use 'paper' or 'centred'")
        return group + lam * credit
    if mode == "process":
        return process_advantages(step_rewards, step_mask, eps)
    raise ValueError(f"unknown advantage mode {mode!r}: use one of {MODES}")


def token_advantages(
    step_adv: torch.Tensor,
    token_to_step: torch.Tensor,
    completion_mask: torch.Tensor,
    rule: TokenRule = "span",
) -> torch.Tensor:
    """Spread per-step advantages over completion tokens.

    Args:
        step_adv: ``[N, S]`` float (``[B, G, S]`` reshaped; 0 where a step is masked).
        token_to_step: ``[N, L]`` long, the step index of each token, -1 for padding
            (``rl.segment.token_steps``).
        completion_mask: ``[N, L]`` bool, True for real completion tokens.
        rule: ``span``: token ``t`` of step ``k`` gets ``A[k]``; ``suffix_sum``: it gets
            ``sum_{j >= k} A[j]`` (DeepSeekMath's "steps ending at or after t").

    Returns:
        ``[N, L]`` float32, 0 where ``completion_mask`` is False or ``token_to_step < 0``.
    """
    adv = step_adv.float()
    if rule == "suffix_sum":
        adv = _suffix_sum(adv)
    elif rule != "span":
        raise ValueError(f"unknown token rule {rule!r}: use 'span' or 'suffix_sum'")
    S = adv.shape[-1]
    index = token_to_step.clamp(min=0, max=S - 1)
    out = adv.gather(1, index)  # [N, L]
    keep = completion_mask & (token_to_step >= 0)
    return torch.where(keep, out, torch.zeros_like(out))


def _suffix_sum(x: torch.Tensor) -> torch.Tensor:
    """``out[..., i] = sum_{j >= i} x[..., j]`` along the last dim."""
    return x.flip(-1).cumsum(-1).flip(-1)
