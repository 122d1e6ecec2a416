"""Generation backends behind one interface: in-process transformers, vLLM, OpenAI-compatible HTTP.

``Engine.generate(prompts, params)`` takes raw strings or chat message lists and returns, per prompt,
``params.n`` ``Completion`` records. Every backend cuts the text at the first stop string (the stop
string itself is removed, as OpenAI servers do) and reports ``finish_reason`` ``"stop"`` (EOS or a
stop string) or ``"length"`` (``max_tokens`` hit). ``temperature == 0`` means greedy decoding.

- ``HFEngine``: an in-process transformers model through stepcode's own decoder
  (``rollout.generate.decode_prompts``, the one RL samples with).
- ``VLLMEngine``: ``vllm.LLM`` + ``SamplingParams``; vLLM is imported lazily and a missing install
  is a ``ConfigError`` naming the extra to install.
- ``OpenAIEngine``: the ``openai`` client against any compatible ``base_url``; requests run on a
  bounded thread pool, each with a timeout, retried with exponential backoff on 429, 5xx, timeouts
  and connection errors. Chat prompts go to ``/chat/completions``, raw strings to ``/completions``.

Not done here: RL group sampling with token offsets (``rollout.generate.sample_group``), logprobs,
beam search, streaming.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from stepcode.errors import ConfigError, StepcodeError
from stepcode.rollout.params import GenerationParams, SamplingParams
from stepcode.rollout.render import Prompt, render_prompt

log = logging.getLogger(__name__)

__all__ = [
    "Completion",
    "Engine",
    "EngineError",
    "GenerationParams",
    "HFEngine",
    "OpenAIEngine",
    "Prompt",
    "RetryPolicy",
    "SamplingParams",
    "VLLMEngine",
    "cut_at_stop",
    "make_engine",
]


class EngineError(StepcodeError):
    """A backend failed for infrastructure reasons (server down after all retries, bad response)."""


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    """"stop" (EOS or a stop string) or "length" """
    n_tokens: int
    """generated tokens, counting the EOS / stop tokens"""


class Engine(Protocol):
    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams
    ) -> list[list[Completion]]: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` before the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def check_prompts(prompts: Sequence[Prompt]) -> None:
    for i, p in enumerate(prompts):
        if not p:
            raise ConfigError(f"prompt {i} is empty")


# --------------------------------------------------------------------------- transformers


class HFEngine:
    """An in-process ``transformers`` causal LM through stepcode's own decoder.

    The same decoder RL samples with (``rollout.generate.decode_prompts``: KV-cache reuse, the fused
    Llama/Qwen2 step, per-row seeds, EOS ids of the tokenizer and the generation config, stop
    strings matched on the completion only), so an evaluation decodes exactly as training does.
    With ``params.seed`` each completion's randomness depends only on (seed, prompt index, sample
    index), not on batching.
    """

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size}: must be >= 1")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    @classmethod
    def from_pretrained(
        cls, path_or_id: str, *, dtype: str = "auto", device: str = "auto", batch_size: int = 16
    ) -> HFEngine:
        from stepcode.models import load_policy

        model, tokenizer = load_policy(path_or_id, dtype=dtype, device=device)
        model.eval()
        return cls(model, tokenizer, batch_size=batch_size)

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[list[Completion]]:
        """``len(prompts)`` lists of ``params.n`` completions, in prompt order."""
        from stepcode.rollout.generate import decode_prompts, derive_seed, encode_prompt

        check_prompts(prompts)
        ids = [encode_prompt(self.tokenizer, *render_prompt(self.tokenizer, p)) for p in prompts]
        seeds = None
        if params.seed is not None:
            seeds = [
                derive_seed(params.seed, 0, i, g) for i in range(len(ids)) for g in range(params.n)
            ]
        streams = decode_prompts(
            self.model, self.tokenizer, ids, params, seeds=seeds, batch_prompts=self.batch_size
        )
        return [
            [
                Completion(text=s.text, finish_reason=s.reason or "length", n_tokens=len(s.ids))
                for s in group
            ]
            for group in streams
        ]


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

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[list[Completion]]:
        vllm = import_vllm()
        check_prompts(prompts)
        tokenizer = self.llm.get_tokenizer()
        texts = [render_prompt(tokenizer, p)[0] for p in prompts]
        sp = vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p if params.temperature > 0 else 1.0,
            top_k=params.top_k if params.top_k > 0 else -1,
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

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[list[Completion]]:
        check_prompts(prompts)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self._one(p, params), prompts))

    def _one(self, prompt: Prompt, params: SamplingParams) -> list[Completion]:
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
