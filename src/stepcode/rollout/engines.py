"""Generation backends behind one interface: in-process transformers, vLLM, OpenAI-compatible HTTP.

``Engine.generate(prompts, params)`` takes raw strings or chat message lists and returns, per prompt,
``params.n`` ``Completion`` records. Every backend cuts the text at the first stop string (the stop
string itself is removed, as OpenAI servers do) and reports ``finish_reason`` ``"stop"`` (EOS or a
stop string) or ``"length"`` (``max_tokens`` hit). ``temperature == 0`` means greedy decoding.

- ``HFEngine``: batched ``model.generate`` with LEFT padding, prompts sorted by length so each batch
  pads little, stop strings checked on the completion only (a ``StoppingCriteria``) so rows stop early.
- ``VLLMEngine``: ``vllm.LLM`` + ``SamplingParams``; vLLM is imported lazily and a missing install
  is a ``ConfigError`` naming the extra to install.
- ``OpenAIEngine``: the ``openai`` client against any compatible ``base_url``; requests run on a
  bounded thread pool, each with a timeout, retried with exponential backoff on 429, 5xx, timeouts
  and connection errors. Chat prompts go to ``/chat/completions``, raw strings to ``/completions``.

Not done here: RL group sampling with token offsets (``rollout.generate.sample_group``), logprobs,
beam search, streaming.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from stepcode.errors import ConfigError, StepcodeError

log = logging.getLogger(__name__)

Prompt = str | list[dict[str, str]]


class EngineError(StepcodeError):
    """A backend failed for infrastructure reasons (server down after all retries, bad response)."""


@dataclass(frozen=True, kw_only=True)
class GenerationParams:
    """Sampling settings shared by every backend."""

    n: int = 1
    """completions per prompt"""
    temperature: float = 0.0
    """0 = greedy"""
    top_p: float = 1.0
    """nucleus sampling mass (ignored when greedy)"""
    max_tokens: int = 256
    """new tokens per completion"""
    stop: tuple[str, ...] = ()
    """stop strings; the text is cut before the first one"""
    seed: int | None = None
    """sampling seed (HF/vLLM: exact reproducibility; OpenAI: passed through, best effort)"""

    def __post_init__(self) -> None:
        if isinstance(self.stop, str) or not isinstance(self.stop, tuple):
            object.__setattr__(
                self, "stop", (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
            )
        if self.n < 1:
            raise ConfigError(f"n={self.n}: need at least one completion per prompt")
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature}: must be >= 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p}: must be in (0, 1]")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens={self.max_tokens}: must be >= 1")
        if any(not s for s in self.stop):
            raise ConfigError(f"stop={self.stop!r}: empty stop strings are not allowed")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> GenerationParams:
        """Build from a benchmark's ``default_params`` (+ overrides); unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown generation settings {sorted(unknown)}: use {sorted(known)}")
        v = dict(values)
        if "stop" in v and v["stop"] is not None:
            v["stop"] = (v["stop"],) if isinstance(v["stop"], str) else tuple(v["stop"])
        return cls(**{k: x for k, x in v.items() if x is not None})

    def greedy(self) -> GenerationParams:
        """Greedy pass@1 settings: one sample, temperature 0."""
        return replace(self, n=1, temperature=0.0, top_p=1.0)


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    """"stop" (EOS or a stop string) or "length" """
    n_tokens: int
    """generated tokens, counting the EOS / stop tokens"""


class Engine(Protocol):
    def generate(
        self, prompts: Sequence[Prompt], params: GenerationParams
    ) -> list[list[Completion]]: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` before the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def render_prompt(tokenizer: Any, prompt: Prompt) -> str:
    """A raw prompt as is; a chat prompt through the tokenizer's chat template."""
    if isinstance(prompt, str):
        return prompt
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("chat prompt given but the tokenizer has no chat template")
    return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)


def check_prompts(prompts: Sequence[Prompt]) -> None:
    for i, p in enumerate(prompts):
        if not p:
            raise ConfigError(f"prompt {i} is empty")


# --------------------------------------------------------------------------- transformers


class HFEngine:
    """Batched generation with an in-process ``transformers`` causal LM."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size}: must be >= 1")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def from_pretrained(
        cls, path_or_id: str, *, dtype: str = "auto", device: str = "auto", batch_size: int = 16
    ) -> HFEngine:
        from stepcode.models import load_policy

        model, tokenizer = load_policy(path_or_id, dtype=dtype, device=device)
        model.eval()
        return cls(model, tokenizer, batch_size=batch_size)

    def generate(
        self, prompts: Sequence[Prompt], params: GenerationParams
    ) -> list[list[Completion]]:
        """``len(prompts)`` lists of ``params.n`` completions, in prompt order."""
        check_prompts(prompts)
        texts = [render_prompt(self.tokenizer, p) for p in prompts]
        rows = [(i, t) for i, t in enumerate(texts) for _ in range(params.n)]
        lengths = [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for _, t in rows]
        order = sorted(range(len(rows)), key=lambda r: -lengths[r])
        out: list[list[Completion]] = [[] for _ in prompts]
        done: dict[int, Completion] = {}
        for b, start in enumerate(range(0, len(order), self.batch_size)):
            chunk = order[start : start + self.batch_size]
            seed = None if params.seed is None else params.seed + b
            comps = self._generate_batch([rows[r][1] for r in chunk], params, seed)
            done.update(zip(chunk, comps, strict=True))
        for r, (i, _) in enumerate(rows):
            out[i].append(done[r])
        return out

    def _generate_batch(
        self, texts: list[str], params: GenerationParams, seed: int | None
    ) -> list[Completion]:
        import torch

        tok, model = self.tokenizer, self.model
        tok.padding_side = "left"
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        kwargs: dict[str, Any] = dict(
            max_new_tokens=params.max_tokens,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.stop:
            from transformers import StoppingCriteriaList

            stop = _completion_stop_criteria()(tok, params.stop, enc["input_ids"].shape[1])
            kwargs.update(stopping_criteria=StoppingCriteriaList([stop]))
        devices = [model.device] if model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=seed is not None), torch.no_grad():
            if seed is not None:
                torch.manual_seed(seed)
            seqs = model.generate(**enc, **kwargs)
        new = seqs[:, enc["input_ids"].shape[1] :].tolist()
        return [self._to_completion(ids, params) for ids in new]

    def _to_completion(self, ids: list[int], params: GenerationParams) -> Completion:
        tok = self.tokenizer
        eos = tok.eos_token_id
        n = len(ids)
        hit_eos = False
        for j, t in enumerate(ids):
            if t == eos:
                n, hit_eos = j + 1, True
                break
        # rows finished by a stop string are padded after it
        while not hit_eos and n > 0 and ids[n - 1] == tok.pad_token_id and eos != tok.pad_token_id:
            n -= 1
        text = tok.decode(ids[: n - 1 if hit_eos else n], skip_special_tokens=True)
        text, hit_stop = cut_at_stop(text, params.stop)
        reason = "stop" if hit_eos or hit_stop else "length"
        return Completion(text=text, finish_reason=reason, n_tokens=n)


@functools.cache
def _completion_stop_criteria() -> type:
    """A ``StoppingCriteria`` that looks for stop strings in the completion only.

    transformers' own ``stop_strings`` match the prompt's tail too: a prompt ending in ``x`` and a
    first generated ``x`` "hit" the stop string ``xx`` after one token, while OpenAI servers and
    vLLM only look at generated text. A row is done when its decoded completion tail holds a stop
    string; the tail window (longest stop + 8 tokens) bounds the decoding work per step, and the
    final text is cut by ``cut_at_stop`` on the whole completion.
    """
    import torch
    from transformers import StoppingCriteria

    class CompletionStop(StoppingCriteria):
        def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_len: int) -> None:
            self.tokenizer, self.stops, self.start = tokenizer, tuple(stops), prompt_len
            self.window = max(len(s) for s in self.stops) + 8

        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any):
            tails = input_ids[:, max(self.start, input_ids.shape[1] - self.window) :].tolist()
            texts = self.tokenizer.batch_decode(tails, skip_special_tokens=True)
            hits = [cut_at_stop(text, self.stops)[1] for text in texts]
            return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)

    return CompletionStop


# --------------------------------------------------------------------------- vLLM


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as e:
        raise ConfigError(
            f"the vLLM backend needs the 'vllm' package, which is not importable here ({e}). "
            "Install it with `pip install 'stepcode[vllm]'` (or `pip install vllm`) on a CUDA "
            "machine, or use --backend hf / --backend openai."
        ) from None
    return vllm


class VLLMEngine:
    """Generation through ``vllm.LLM`` (continuous batching on GPU)."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm

    @classmethod
    def from_pretrained(cls, path_or_id: str, **llm_kwargs: Any) -> VLLMEngine:
        vllm = import_vllm()
        return cls(vllm.LLM(model=str(path_or_id), **llm_kwargs))

    def generate(
        self, prompts: Sequence[Prompt], params: GenerationParams
    ) -> list[list[Completion]]:
        vllm = import_vllm()
        check_prompts(prompts)
        tokenizer = self.llm.get_tokenizer()
        texts = [render_prompt(tokenizer, p) for p in prompts]
        sp = vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p if params.temperature > 0 else 1.0,
            max_tokens=params.max_tokens,
            stop=list(params.stop) or None,
            seed=params.seed,
        )
        outputs = self.llm.generate(texts, sp, use_tqdm=False)
        result = []
        for o in outputs:
            comps = []
            for c in o.outputs:
                text, _ = cut_at_stop(c.text, params.stop)
                reason = "length" if c.finish_reason == "length" else "stop"
                comps.append(Completion(text=text, finish_reason=reason, n_tokens=len(c.token_ids)))
            result.append(comps)
        return result


# --------------------------------------------------------------------------- OpenAI-compatible


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How ``OpenAIEngine`` retries a request."""

    max_retries: int = 5
    """retries after the first attempt"""
    backoff_s: float = 0.5
    """first wait; doubles every retry (with up to 25 % jitter)"""
    max_backoff_s: float = 30.0
    """cap on one wait"""
    timeout_s: float = 120.0
    """per-request timeout"""

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_s < 0 or self.timeout_s <= 0:
            raise ConfigError(f"{self}: retries/backoff must be >= 0 and timeout > 0")


@dataclass
class OpenAIEngine:
    """Any OpenAI-compatible server (vLLM serve, TGI, SGLang, OpenAI, ``stepcode serve``)."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    """default: $OPENAI_API_KEY, else a placeholder (local servers ignore it)"""
    concurrency: int = 8
    style: Literal["auto", "chat", "completion"] = "auto"
    """auto: chat prompts -> /chat/completions, strings -> /completions"""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempts: int = field(default=0, init=False)
    """HTTP attempts made so far (for logs and tests)"""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency={self.concurrency}: must be >= 1")
        if self.style not in ("auto", "chat", "completion"):
            raise ConfigError(f"style={self.style!r}: choose auto, chat or completion")
        import openai

        key = self.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=key, max_retries=0, timeout=self.retry.timeout_s
        )

    def generate(
        self, prompts: Sequence[Prompt], params: GenerationParams
    ) -> list[list[Completion]]:
        check_prompts(prompts)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self._one(p, params), prompts))

    def _one(self, prompt: Prompt, params: GenerationParams) -> list[Completion]:
        chat = self.style == "chat" or (self.style == "auto" and not isinstance(prompt, str))
        if chat and isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        if not chat and not isinstance(prompt, str):
            raise ConfigError("completion style needs string prompts (got chat messages)")
        common: dict[str, Any] = dict(
            model=self.model,
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
        )
        if params.stop:
            common["stop"] = list(params.stop[:4])  # the API takes at most 4; the rest cut locally
        if params.seed is not None:
            common["seed"] = params.seed
        resp = self._with_retries(chat, prompt, common)
        comps = []
        for ch in sorted(resp.choices, key=lambda c: c.index):
            raw = (ch.message.content if chat else ch.text) or ""
            text, hit = cut_at_stop(raw, params.stop)
            reason = "stop" if hit or ch.finish_reason != "length" else "length"
            comps.append(Completion(text=text, finish_reason=reason, n_tokens=0))
        if len(comps) != params.n:
            raise EngineError(f"server returned {len(comps)} choices, asked for {params.n}")
        usage = getattr(resp, "usage", None)
        if usage is not None and usage.completion_tokens and comps:
            per = usage.completion_tokens // len(comps)
            comps = [replace(c, n_tokens=per) for c in comps]
        return comps

    def _with_retries(self, chat: bool, prompt: Prompt, common: dict[str, Any]) -> Any:
        oa = self._openai
        transient = (oa.RateLimitError, oa.APITimeoutError, oa.APIConnectionError)
        for attempt in range(self.retry.max_retries + 1):
            self.attempts += 1
            try:
                if chat:
                    return self._client.chat.completions.create(messages=prompt, **common)
                return self._client.completions.create(prompt=prompt, **common)
            except (*transient, oa.APIStatusError) as e:
                status = getattr(e, "status_code", None)
                retryable = isinstance(e, transient) or (status is not None and status >= 500)
                if not retryable or attempt == self.retry.max_retries:
                    raise EngineError(
                        f"{self.base_url or 'OpenAI'}: request failed after {attempt + 1} "
                        f"attempt(s): {type(e).__name__}: {e}"
                    ) from e
                wait = min(self.retry.max_backoff_s, self.retry.backoff_s * 2**attempt)
                wait *= 1 + 0.25 * random.random()
                log.warning(
                    "%s (attempt %d); retrying in %.2fs", type(e).__name__, attempt + 1, wait
                )
                time.sleep(wait)
        raise AssertionError("unreachable")


def make_engine(backend: str, model: str, *, base_url: str | None = None, **kwargs: Any) -> Engine:
    """``hf`` | ``vllm`` | ``openai`` engine for ``model`` (a path, hub id or served model name)."""
    if backend == "hf":
        return HFEngine.from_pretrained(model, **kwargs)
    if backend == "vllm":
        return VLLMEngine.from_pretrained(model, **kwargs)
    if backend == "openai":
        return OpenAIEngine(model=model, base_url=base_url, **kwargs)
    raise ConfigError(f"unknown backend {backend!r}: choose hf, vllm or openai")
