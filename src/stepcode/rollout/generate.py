"""Group sampling for RL: G completions per task from an in-process transformers model.

``sample_group`` renders each task's prompt (chat template when the task has messages and the
tokenizer has a template), prefills each prompt ONCE, copies its KV cache G times
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

Positions count real tokens only (``cumsum(attention_mask) - 1``), exactly as
``rl.logprobs.token_logprobs`` recomputes them for training.

Not done here: serving engines (vLLM/OpenAI live in ``rollout.engines``), beam search, repetition
penalties, speculative decoding. Stop-string text is cut from ``completion`` but its tokens stay in
``completion_ids`` (they are what the policy sampled).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stepcode.errors import ConfigError
from stepcode.rollout.detokenize import TokenStream, piece_table
from stepcode.rollout.llama_step import LlamaStep
from stepcode.types import Rollout, Task

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SamplingConfig:
    """How ``sample_group`` samples."""

    max_new_tokens: int = 256
    """completion length cap (finish_reason ``length`` when hit)"""
    temperature: float = 1.0
    """softmax temperature; 0 = greedy"""
    top_p: float = 1.0
    """nucleus sampling mass (1 = off)"""
    top_k: int = 0
    """keep only the k most likely tokens (0 = off)"""
    stop: tuple[str, ...] = ()
    """stop strings; the text is cut before the first one"""
    batch_tasks: int = 16
    """tasks decoded together (rows per forward = batch_tasks * group_size)"""
    chat: bool | None = None
    """use the chat template: None = when the task has messages and the tokenizer a template"""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens={self.max_new_tokens}: must be >= 1 (try 256)")
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature}: must be >= 0 (0 = greedy)")
        if not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p={self.top_p}: must be in (0, 1] (1 = off)")
        if self.top_k < 0:
            raise ConfigError(f"top_k={self.top_k}: must be >= 0 (0 = off)")
        if self.batch_tasks < 1:
            raise ConfigError(f"batch_tasks={self.batch_tasks}: must be >= 1")
        if any(not s for s in self.stop):
            raise ConfigError("stop contains an empty string: remove it")


def derive_seed(run_seed: int, step: int, task_idx: int, sample_idx: int) -> int:
    """A 63-bit seed that depends only on ``(run_seed, step, task_idx, sample_idx)``."""
    key = f"{run_seed}:{step}:{task_idx}:{sample_idx}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


def render_prompt(task: Task, tokenizer: Any, chat: bool | None = None) -> tuple[str, bool]:
    """``(prompt text, is_chat)``: the chat-template rendering of ``task.messages`` or ``task.prompt``."""
    has_template = getattr(tokenizer, "chat_template", None) is not None
    use_chat = bool(task.messages) and has_template if chat is None else chat
    if not use_chat:
        return task.prompt, False
    if not task.messages or not has_template:
        raise ConfigError(f"chat=True but task {task.task_id!r} or the tokenizer has no chat form")
    messages = [dict(m) for m in task.messages]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), True


def sample_group(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[Task],
    group_size: int,
    gen_cfg: SamplingConfig | None = None,
    generator: torch.Generator | None = None,
    *,
    seeds: Sequence[int] | None = None,
) -> list[Rollout]:
    """Sample ``group_size`` completions for each task.

    Args:
        model: a transformers causal LM (its train/eval mode is restored afterwards).
        tokenizer: its tokenizer.
        tasks: ``B`` tasks.
        group_size: ``G``.
        gen_cfg: sampling settings.
        generator: one RNG for the whole call (ignored when ``seeds`` is given).
        seeds: ``N = B * G`` per-row seeds, task-major (row ``b * G + g``).

    Returns:
        ``N`` rollouts, task-major: the G samples of task 0, then task 1, ...
    """
    cfg = gen_cfg or SamplingConfig()
    if group_size < 1:
        raise ConfigError(f"group_size={group_size}: must be >= 1")
    if seeds is not None and len(seeds) != len(tasks) * group_size:
        raise ConfigError(f"{len(seeds)} seeds for {len(tasks)} tasks x {group_size} samples")
    rendered = [render_prompt(t, tokenizer, cfg.chat) for t in tasks]
    prompt_ids = [tokenizer.encode(text, add_special_tokens=not chat) for text, chat in rendered]
    empty = [t.task_id for t, ids in zip(tasks, prompt_ids, strict=True) if not ids]
    if empty:
        raise ConfigError(f"tasks with an empty prompt cannot be sampled: {empty[:5]}")
    eos = _eos_ids(model, tokenizer)
    pieces = piece_table(tokenizer)
    was_training = model.training
    model.eval()
    out: list[Rollout] = []
    try:
        for start in range(0, len(tasks), cfg.batch_tasks):
            chunk = range(start, min(len(tasks), start + cfg.batch_tasks))
            rows = [(b, g) for b in chunk for g in range(group_size)]
            row_seeds = [seeds[b * group_size + g] for b, g in rows] if seeds is not None else None
            uniforms = _draw_uniforms(len(rows), cfg.max_new_tokens, row_seeds, generator)
            streams = [TokenStream(tokenizer, pieces, eos, cfg.stop) for _ in rows]
            _decode(model, [prompt_ids[b] for b in chunk], group_size, cfg, streams, uniforms)
            for (b, g), s in zip(rows, streams, strict=True):
                out.append(s.to_rollout(tasks[b].task_id, g, rendered[b][0], prompt_ids[b]))
    finally:
        model.train(was_training)
    return out


@torch.no_grad()
def _decode(
    model: Any,
    prompts: list[list[int]],
    G: int,
    cfg: SamplingConfig,
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
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=ids, attention_mask=attn, position_ids=pos, use_cache=True, logits_to_keep=1
    )
    cache = out.past_key_values
    cache.batch_repeat_interleave(G)
    _preallocate(cache, P + cfg.max_new_tokens)
    fused = LlamaStep.build(model, cache)  # None: not a Llama/Qwen2 it reproduces
    logits = out.logits[:, -1, :].repeat_interleave(G, dim=0)  # [N, V]
    attn = attn.repeat_interleave(G, dim=0)
    next_pos = pos[:, -1:].repeat_interleave(G, dim=0) + 1  # [N, 1]
    uniforms = uniforms.to(device)  # [N, max_new_tokens]
    active = list(range(len(streams)))  # the stream of each batch row, finished ones included
    rows = torch.arange(len(streams), device=device)
    for t in range(cfg.max_new_tokens):
        tokens = _sample_next(logits, cfg, uniforms[rows, t])  # [n]
        for r, token in zip(active, tokens.tolist(), strict=True):
            if streams[r].reason is None:
                streams[r].push(token)
        keep = [j for j, r in enumerate(active) if streams[r].reason is None]
        if not keep or t == cfg.max_new_tokens - 1:
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


def _sample_next(logits: torch.Tensor, cfg: SamplingConfig, uniforms: torch.Tensor) -> torch.Tensor:
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
