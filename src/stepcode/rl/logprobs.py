"""Log-probabilities of sampled completion tokens, and packing rollouts into tensors.

Layout used by training (and produced by ``pack_rollouts``): each row is the prompt LEFT-padded to
``P`` followed by the completion RIGHT-padded to ``L``, so the completion always occupies the last
``L`` columns. Position ids count real tokens only (``cumsum(attention_mask) - 1``), the same
positions ``rollout.generate`` sampled with, so ``token_logprobs`` on the sampling weights
reproduces the sampling log-probs up to float noise.

Rows that share a prompt (the G samples of a task) share its forward pass: the distinct prompts
run once with a KV cache, the cache rows are gathered for the ``N`` rows (an index, so gradients
from every sample add up in the prompt's activations) and the completions run on top of it. The
result and its gradients equal the full-row forward up to float rounding, with the prompt tokens
computed ``U`` instead of ``N`` times (``U`` distinct prompts); caches other than transformers'
plain ``DynamicLayer`` take the full-row path.

Memory: ``[N, L, V]`` logits larger than ``LOGITS_BUDGET`` floats are never held at once. The
backbone's last hidden states are then projected through the output embedding in chunks of
``chunk_rows`` rows (by default as many as fit the budget, at least one), each chunk reduced to
``gather - logsumexp`` and (when grad is on) recomputed in backward via activation checkpointing,
so peak extra memory is ``chunk_rows * L * V`` floats. Logits that fit are projected at once and
kept for backward (recomputing them would cost time and save nothing that matters). Models
without ``get_output_embeddings`` (or with logit soft-capping) take the plain ``model(...).logits``
path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

from stepcode.rollout.positions import position_ids
from stepcode.types import Rollout

LOGITS_BUDGET = 2**25
"""floats of ``[rows, L, V]`` logits held at once (128 MiB in float32)"""


@dataclass(frozen=True)
class PackedBatch:
    """Rollouts as tensors (``N`` rows, ``P`` prompt columns, ``L`` completion columns)."""

    input_ids: torch.Tensor
    """``[N, P + L]`` long"""
    attention_mask: torch.Tensor
    """``[N, P + L]`` long, 1 = real token"""
    completion_mask: torch.Tensor
    """``[N, L]`` bool, True = completion token that counts"""

    @property
    def completion_ids(self) -> torch.Tensor:
        """``[N, L]`` long"""
        return self.input_ids[:, -self.completion_mask.shape[1] :]

    def to(self, device: Any) -> PackedBatch:
        return PackedBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.completion_mask.to(device),
        )


def pack_rollouts(
    rollouts: Sequence[Rollout], pad_id: int, max_len: int | None = None
) -> PackedBatch:
    """Left-pad prompts, right-pad completions (cut to ``max_len`` tokens if given)."""
    comps = [
        list(r.completion_ids)[:max_len] if max_len else list(r.completion_ids) for r in rollouts
    ]
    P = max((len(r.prompt_ids) for r in rollouts), default=0)
    L = max(1, max((len(c) for c in comps), default=0))
    N = len(rollouts)
    ids = torch.full((N, P + L), pad_id, dtype=torch.long)
    attn = torch.zeros((N, P + L), dtype=torch.long)
    cmask = torch.zeros((N, L), dtype=torch.bool)
    for i, (r, c) in enumerate(zip(rollouts, comps, strict=True)):
        p = len(r.prompt_ids)
        if p:
            ids[i, P - p : P] = torch.tensor(r.prompt_ids, dtype=torch.long)
            attn[i, P - p : P] = 1
        if c:
            ids[i, P : P + len(c)] = torch.tensor(c, dtype=torch.long)
            attn[i, P : P + len(c)] = 1
            cmask[i, : len(c)] = True
    return PackedBatch(ids, attn, cmask)


def token_logprobs(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    completion_mask: torch.Tensor,
    *,
    temperature: float = 1.0,
    chunk_rows: int | None = None,
) -> torch.Tensor:
    """Log-prob of each completion token under ``model``.

    Args:
        model: a transformers causal LM (optionally peft-wrapped).
        input_ids: ``[N, P + L]`` long, completion in the last ``L`` columns.
        attention_mask: ``[N, P + L]`` (1 = real token).
        completion_mask: ``[N, L]`` bool.
        temperature: logits are divided by it (match the sampling temperature; 0 means 1).
        chunk_rows: rows projected to the vocabulary at a time (None: all rows when the logits
            fit ``LOGITS_BUDGET`` floats, else as many as fit, at least one).

    Returns:
        ``[N, L]`` float32, 0 where ``completion_mask`` is False. Differentiable when grad is on.
    """
    L = completion_mask.shape[1]
    temp = temperature if temperature > 0 else 1.0
    targets = input_ids[:, -L:]  # [N, L]
    head = _output_head(model)
    if head is None:
        out = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids(attention_mask),
            use_cache=False,
            logits_to_keep=L + 1,
        )
        logits = out.logits[:, :-1, :]  # [N, L, V]: position t predicts token t + 1
        lp = _gather_logprobs(logits, targets, temp)
    else:
        hidden = _completion_hidden(model.get_decoder(), input_ids, attention_mask, L)
        parts = []
        N = hidden.shape[0]
        rows = chunk_rows or max(1, LOGITS_BUDGET // max(1, L * _vocab_size(model, head)))
        for start in range(0, N, max(1, rows)):
            h = hidden[start : start + rows]
            t = targets[start : start + rows]
            if rows < N and torch.is_grad_enabled() and h.requires_grad:
                parts.append(checkpoint(_project_logprobs, head, h, t, temp, use_reentrant=False))
            else:
                parts.append(_project_logprobs(head, h, t, temp))
        lp = torch.cat(parts, dim=0)
    return torch.where(completion_mask, lp, torch.zeros_like(lp))


def _completion_hidden(
    backbone: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, L: int
) -> torch.Tensor:
    """``[N, L, H]``: the last hidden state at the positions that predict the completion tokens
    (the last prompt column, then completion columns ``0 .. L - 2``)."""
    P = input_ids.shape[1] - L
    # transformers turns the cache off under gradient checkpointing: run full rows then.
    if P > 0 and not getattr(backbone, "gradient_checkpointing", False):
        prompts = torch.cat([input_ids[:, :P], attention_mask[:, :P].to(input_ids.dtype)], dim=1)
        distinct, row_prompt = torch.unique(prompts, dim=0, return_inverse=True)  # [U, 2P], [N]
        if len(distinct) < len(prompts):
            shared = _shared_prompt_hidden(
                backbone, distinct, row_prompt, input_ids, attention_mask
            )
            if shared is not None:
                return shared
    full = backbone(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids(attention_mask),
        use_cache=False,
    )
    return full.last_hidden_state[:, -L - 1 : -1, :]


def _shared_prompt_hidden(
    backbone: Any,
    distinct: torch.Tensor,
    row_prompt: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
) -> torch.Tensor | None:
    """The ``_completion_hidden`` result with each distinct prompt run once; None when the
    backbone's cache is not made of plain ``DynamicLayer``s (the caller runs full rows)."""
    from transformers.cache_utils import DynamicLayer

    P = distinct.shape[1] // 2
    prompt_ids, prompt_mask = distinct[:, :P], distinct[:, P:].to(attention_mask.dtype)
    out = backbone(
        input_ids=prompt_ids,
        attention_mask=prompt_mask,
        position_ids=position_ids(prompt_mask),
        use_cache=True,
    )
    cache = out.past_key_values
    layers = getattr(cache, "layers", None)
    if not isinstance(layers, list) or any(type(layer) is not DynamicLayer for layer in layers):
        return None
    cache.batch_select_indices(row_prompt)  # [U, ...] -> [N, ...], differentiable gather
    rest = backbone(
        input_ids=input_ids[:, P:],
        attention_mask=attention_mask,
        position_ids=position_ids(attention_mask)[:, P:],
        past_key_values=cache,
        use_cache=True,
    ).last_hidden_state  # [N, L, H]
    first = out.last_hidden_state[row_prompt, -1:, :]  # [N, 1, H]: predicts completion token 0
    return torch.cat([first, rest[:, :-1, :]], dim=1)


def _vocab_size(model: Any, head: Any) -> int:
    """Columns of the logits (from the head, else the config; 2**18 when neither says)."""
    config = getattr(model, "config", None)
    for n in (getattr(head, "out_features", None), getattr(config, "vocab_size", None)):
        if isinstance(n, int) and n > 0:
            return n
    return 2**18


def _output_head(model: Any) -> Any:
    """The output projection when logits are exactly ``head(hidden)``, else None."""
    config = getattr(model, "config", None)
    if config is not None and getattr(config, "final_logit_softcapping", None):
        return None
    get_head = getattr(model, "get_output_embeddings", None)
    get_decoder = getattr(model, "get_decoder", None)
    if get_head is None or get_decoder is None:
        return None
    try:
        head, decoder = get_head(), get_decoder()
    except (AttributeError, NotImplementedError):
        return None
    return head if head is not None and decoder is not None and decoder is not model else None


def _project_logprobs(head: Any, hidden: torch.Tensor, targets: torch.Tensor, temp: float):
    return _gather_logprobs(head(hidden), targets, temp)


def _gather_logprobs(logits: torch.Tensor, targets: torch.Tensor, temp: float) -> torch.Tensor:
    """``[n, L, V]`` logits, ``[n, L]`` targets -> ``[n, L]`` float32 log-probs."""
    logits = logits.float()
    if temp != 1.0:
        logits = logits / temp
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)
