"""The in-process decoder: ``decode_prompts`` (every in-process caller) and ``sample_group`` (RL).

``decode_prompts`` is the one decoder for a transformers model (``HFEngine`` and RL sampling both
use it). ``sample_group`` renders each task's prompt (``rollout.render.render_prompt``), then the
decoder prefills each prompt ONCE, copies its KV cache G times
(``DynamicCache.batch_repeat_interleave``) and decodes all ``B * G`` rows token by token with the
cache. Finished rows are dropped from the batch (``batch_select_indices``) once a quarter of the
rows has finished, so short completions stop costing compute. Llama and Qwen2 models in float32
take each decode step through ``rollout.llama_step`` (the same logits in fewer ops), any other
model through ``model(...)``. Each row stops at an EOS id or at a stop string; the completion text
is detokenised incrementally and every token gets its char span in the text
(``Rollout.completion_offsets``), which ``rl.segment`` uses to map trace lines to tokens.

Randomness comes only from the arguments: ``seeds`` (one per row, e.g. from ``derive_seed(run_seed,
step, task_idx, sample_idx)``, so a sample does not depend on its batch-mates' RNG draws) or one
explicit ``torch.Generator`` for the whole call (else torch's global RNG). Each row's uniforms are
drawn up front and tokens are sampled by inverse CDF, one batched call per step.
``temperature == 0`` is greedy.

Positions count real tokens only (``rollout.positions.position_ids``), the function
``rl.logprobs.token_logprobs`` recomputes them with for training.

Not done here: serving engines (vLLM/OpenAI live in ``rollout.engines``), beam search, repetition
penalties, speculative decoding. Stop-string text is cut from ``completion`` but its tokens stay in
``completion_ids`` (they are what the policy sampled).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import torch

from stepcode.errors import ConfigError
from stepcode.rollout.detokenize import TokenStream, piece_table
from stepcode.rollout.llama_step import LlamaStep
from stepcode.rollout.params import SamplingParams
from stepcode.rollout.positions import position_ids
from stepcode.rollout.render import render_prompt
from stepcode.types import Rollout, Task

log = logging.getLogger(__name__)


def derive_seed(run_seed: int, step: int, task_idx: int, sample_idx: int) -> int:
    """A 63-bit seed that depends only on ``(run_seed, step, task_idx, sample_idx)``."""
    key = f"{run_seed}:{step}:{task_idx}:{sample_idx}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


def sample_group(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[Task],
    params: SamplingParams,
    *,
    seeds: Sequence[int] | None = None,
    generator: torch.Generator | None = None,
    batch_tasks: int = 16,
    chat: bool | None = None,
) -> list[Rollout]:
    """Sample ``params.n`` completions (the group, G) for each task.

    Args:
        model: a transformers causal LM (its train/eval mode is restored afterwards).
        tokenizer: its tokenizer.
        tasks: ``B`` tasks, rendered by ``rollout.render.render_prompt`` (``chat`` as there).
        params: sampling settings; ``params.n`` is G.
        seeds: ``N = B * G`` per-row seeds, task-major (row ``b * G + g``).
        generator: one RNG for the whole call (ignored when ``seeds`` is given).
        batch_tasks: tasks decoded together (rows per forward = ``batch_tasks * G``).

    Returns:
        ``N`` rollouts, task-major: the G samples of task 0, then task 1, ...
    """
    rendered = [render_prompt(tokenizer, t, chat) for t in tasks]
    prompt_ids = [encode_prompt(tokenizer, text, is_chat) for text, is_chat in rendered]
    empty = [t.task_id for t, ids in zip(tasks, prompt_ids, strict=True) if not ids]
    if empty:
        raise ConfigError(f"tasks with an empty prompt cannot be sampled: {empty[:5]}")
    streams = decode_prompts(
        model, tokenizer, prompt_ids, params, seeds=seeds, generator=generator,
        batch_prompts=batch_tasks,
    )  # fmt: skip
    return [
        s.to_rollout(task.task_id, g, text, ids)
        for task, (text, _), ids, group in zip(tasks, rendered, prompt_ids, streams, strict=True)
        for g, s in enumerate(group)
    ]


def encode_prompt(tokenizer: Any, text: str, is_chat: bool) -> list[int]:
    """Prompt ids; special tokens (BOS) are added unless a chat template already wrote them."""
    return tokenizer.encode(text, add_special_tokens=not is_chat)


def decode_prompts(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[Sequence[int]],
    params: SamplingParams,
    *,
    seeds: Sequence[int] | None = None,
    generator: torch.Generator | None = None,
    batch_prompts: int = 16,
) -> list[list[TokenStream]]:
    """The in-process decoder: ``params.n`` finished ``TokenStream`` per prompt, in prompt order.

    Prompts are decoded ``batch_prompts`` at a time, longest first (less padding); each row's
    randomness comes from its own seed (``seeds``: ``len(prompt_ids) * n``, prompt-major) or from
    ``generator``, so with seeds a row's sample does not depend on its batch-mates or the order.
    """
    G = params.n
    if batch_prompts < 1:
        raise ConfigError(f"batch_prompts={batch_prompts}: must be >= 1")
    if seeds is not None and len(seeds) != len(prompt_ids) * G:
        raise ConfigError(f"{len(seeds)} seeds for {len(prompt_ids)} prompts x {G} samples")
    if any(not ids for ids in prompt_ids):
        raise ConfigError("an empty prompt cannot be decoded")
    eos = _eos_ids(model, tokenizer)
    pieces = piece_table(tokenizer)
    order = sorted(range(len(prompt_ids)), key=lambda i: -len(prompt_ids[i]))
    out: list[list[TokenStream]] = [[] for _ in prompt_ids]
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), batch_prompts):
            chunk = order[start : start + batch_prompts]
            rows = [(b, g) for b in chunk for g in range(G)]
            row_seeds = [seeds[b * G + g] for b, g in rows] if seeds is not None else None
            uniforms = _draw_uniforms(len(rows), params.max_tokens, row_seeds, generator)
            streams = [TokenStream(tokenizer, pieces, eos, params.stop) for _ in rows]
            _decode(model, [list(prompt_ids[b]) for b in chunk], G, params, streams, uniforms)
            for (b, _), stream in zip(rows, streams, strict=True):
                out[b].append(stream)
    finally:
        model.train(was_training)
    return out


@torch.no_grad()
def _decode(
    model: Any,
    prompts: list[list[int]],
    G: int,
    cfg: SamplingParams,
    streams: list[TokenStream],
    uniforms: torch.Tensor,
) -> None:
    """Prefill ``B`` prompts once, repeat the cache ``G`` times, decode until every row is done."""
    device = next(model.parameters()).device
    pad = 0
    P = max(1, max(len(p) for p in prompts))
    ids = torch.full((len(prompts), P), pad, dtype=torch.long)
    attn = torch.zeros((len(prompts), P), dtype=torch.long)
    for i, p in enumerate(prompts):
        if p:
            ids[i, P - len(p) :] = torch.tensor(p)
            attn[i, P - len(p) :] = 1
    ids, attn = ids.to(device), attn.to(device)
    pos = position_ids(attn)
    out = model(
        input_ids=ids, attention_mask=attn, position_ids=pos, use_cache=True, logits_to_keep=1
    )
    cache = out.past_key_values
    cache.batch_repeat_interleave(G)
    _preallocate(cache, P + cfg.max_tokens)
    fused = LlamaStep.build(model, cache)  # None: not a Llama/Qwen2 it reproduces
    logits = out.logits[:, -1, :].repeat_interleave(G, dim=0)  # [N, V]
    attn = attn.repeat_interleave(G, dim=0)
    next_pos = pos[:, -1:].repeat_interleave(G, dim=0) + 1  # [N, 1]
    uniforms = uniforms.to(device)  # [N, max_tokens]
    active = list(range(len(streams)))  # the stream of each batch row, finished ones included
    rows = torch.arange(len(streams), device=device)
    for t in range(cfg.max_tokens):
        tokens = _sample_next(logits, cfg, uniforms[rows, t])  # [n]
        for r, token in zip(active, tokens.tolist(), strict=True):
            if streams[r].reason is None:
                streams[r].push(token)
        keep = [j for j, r in enumerate(active) if streams[r].reason is None]
        if not keep or t == cfg.max_tokens - 1:
            break
        # Dropping finished rows copies the whole cache, while a finished row costs little more
        # than its share of one step (decoding is overhead-bound): drop them a quarter at a time.
        if len(keep) <= len(active) * 3 // 4:
            idx = torch.tensor(keep, device=device)
            cache.batch_select_indices(idx)
            attn, next_pos, tokens, rows = attn[idx], next_pos[idx], tokens[idx], rows[idx]
            active = [active[j] for j in keep]
        attn = torch.cat([attn, attn.new_ones((len(active), 1))], dim=1)
        if fused is not None:
            logits = fused(tokens, attn, next_pos)
        else:
            out = model(
                input_ids=tokens[:, None],
                attention_mask=attn,
                position_ids=next_pos,
                past_key_values=cache,
                use_cache=True,
            )
            logits = out.logits[:, -1, :]
        next_pos = next_pos + 1
    for r in active:
        streams[r].finish("length")  # a no-op on rows that already finished


def _preallocate(cache: Any, capacity: int) -> None:
    """Swap plain dynamic cache layers for ones that write into a buffer of ``capacity`` tokens.

    transformers' ``DynamicLayer`` concatenates on every step (quadratic copying, ~20 % of CPU
    decode time at 128 tokens). Only exact ``DynamicLayer`` instances are swapped; any other cache
    (sliding window, quantised, future layouts) is left alone and works as before.
    """
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    if not isinstance(layers, list):
        return
    for i, layer in enumerate(layers):
        if type(layer) is DynamicLayer and layer.is_initialized and layer.keys.dim() == 4:
            layers[i] = _buffered_layer_type()(layer.keys, layer.values, capacity)


def _sample_next(logits: torch.Tensor, cfg: SamplingParams, uniforms: torch.Tensor) -> torch.Tensor:
    """``[n, V]`` logits and ``[n]`` uniforms in [0, 1) -> ``[n]`` token ids.

    Inverse-CDF sampling: one uniform per row and step, drawn up front from each row's own RNG,
    so the whole batch samples in one call and a row's draws never depend on its batch-mates.
    Greedy when temperature is 0.
    """
    if cfg.temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits.float() / cfg.temperature
    if cfg.top_k > 0 and cfg.top_k < scores.shape[-1]:
        kth = scores.topk(cfg.top_k, dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if cfg.top_p < 1.0:
        sorted_scores, order = scores.sort(dim=-1, descending=True)
        sorted_probs = sorted_scores.softmax(dim=-1)
        drop_sorted = (sorted_probs.cumsum(dim=-1) - sorted_probs) >= cfg.top_p  # keeps >= 1
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    cdf = scores.softmax(dim=-1).cumsum(dim=-1)  # [n, V]
    target = (uniforms.to(cdf.dtype) * cdf[:, -1]).unsqueeze(-1)  # [n, 1]
    # right=True: the first index whose cdf exceeds the target; zero-probability tokens are
    # never chosen because their cdf equals the previous one.
    picks = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    # u rounding up to 1 in float32 would run past the end: take the last token with mass.
    last = torch.searchsorted(cdf, cdf[:, -1:].contiguous(), right=False).squeeze(-1)
    return torch.minimum(picks, last)


def _draw_uniforms(
    n_rows: int,
    steps: int,
    seeds: Sequence[int] | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """``[n_rows, steps]`` float64 uniforms on CPU: per-row seeded streams, or one generator."""
    if seeds is not None:
        rows = []
        for seed in seeds:
            gen = torch.Generator().manual_seed(int(seed))
            rows.append(torch.rand(steps, generator=gen, dtype=torch.float64))
        return torch.stack(rows)
    if generator is not None and generator.device.type != "cpu":
        return torch.rand(n_rows, steps, generator=generator, device=generator.device).cpu()
    return torch.rand(n_rows, steps, generator=generator, dtype=torch.float64)


def _eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(gen_eos, int):
        ids.add(gen_eos)
    elif gen_eos:
        ids.update(int(i) for i in gen_eos)
    return frozenset(ids)


@functools.cache
def _buffered_layer_type() -> type:
    """The buffered ``DynamicLayer`` subclass, defined on first use (no import-time transformers)."""
    from transformers.cache_utils import DynamicLayer

    class BufferedLayer(DynamicLayer):
        """A ``DynamicLayer`` whose keys/values are views of a preallocated buffer."""

        def __init__(self, keys: torch.Tensor, values: torch.Tensor, capacity: int) -> None:
            super().__init__()
            self.dtype, self.device = keys.dtype, keys.device
            self.is_initialized = True
            self._set(keys, values, capacity)

        def _set(self, keys: torch.Tensor, values: torch.Tensor, capacity: int) -> None:
            B, H, T, _ = keys.shape
            self._len = T
            self._k = keys.new_empty(B, H, max(capacity, T), keys.shape[-1])
            self._v = values.new_empty(B, values.shape[1], max(capacity, T), values.shape[-1])
            self._k[:, :, :T] = keys
            self._v[:, :, :T] = values
            self._views()

        def _views(self) -> None:
            self.keys = self._k[:, :, : self._len]
            self.values = self._v[:, :, : self._len]

        def update(self, key_states, value_states, *args, **kwargs):
            n = key_states.shape[-2]
            if self._len + n > self._k.shape[-2]:
                self._set(self.keys, self.values, 2 * (self._len + n))
            self._k[:, :, self._len : self._len + n] = key_states
            self._v[:, :, self._len : self._len + n] = value_states
            self._len += n
            self._views()
            return self.keys, self.values

        def batch_select_indices(self, indices: torch.Tensor) -> None:
            self._k, self._v = self._k[indices], self._v[indices]
            self._views()

        def batch_repeat_interleave(self, repeats: int) -> None:
            self._k = self._k.repeat_interleave(repeats, dim=0)
            self._v = self._v.repeat_interleave(repeats, dim=0)
            self._views()

        def crop(self, max_length: int) -> None:
            if max_length < 0:
                max_length = self._len - abs(max_length)
            self._len = min(self._len, max(0, max_length))
            self._views()

    return BufferedLayer
