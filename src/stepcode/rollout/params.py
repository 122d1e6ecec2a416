"""How completions are sampled: ``SamplingParams``, the one settings type of every backend.

The in-process decoder (``rollout.generate``: RL groups and ``HFEngine``), vLLM and OpenAI-compatible
servers all read these fields; training (``rl.config.RolloutConfig``) and evaluation
(``eval.harness``, ``eval.server``) build them, and their validation lives here only.
``temperature == 0`` is greedy (the default: an unspecified evaluation is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from stepcode.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class SamplingParams:
    """Sampling settings shared by every backend."""

    n: int = 1
    """completions per prompt (the group size G in RL)"""
    temperature: float = 0.0
    """softmax temperature; 0 = greedy"""
    top_p: float = 1.0
    """nucleus sampling mass (1 = off; ignored when greedy)"""
    top_k: int = 0
    """keep only the k most likely tokens (0 = off; OpenAI servers ignore it)"""
    max_tokens: int = 256
    """new tokens per completion (finish_reason ``length`` when hit)"""
    stop: tuple[str, ...] = ()
    """stop strings; the text is cut before the first one"""
    seed: int | None = None
    """sampling seed (in-process and vLLM: exact reproducibility; OpenAI: passed through)"""

    def __post_init__(self) -> None:
        if isinstance(self.stop, str) or not isinstance(self.stop, tuple):
            stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
            object.__setattr__(self, "stop", stop)
        if self.n < 1:
            raise ConfigError(f"n={self.n}: need at least one completion per prompt")
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature}: must be >= 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p}: must be in (0, 1] (1 = off)")
        if self.top_k < 0:
            raise ConfigError(f"top_k={self.top_k}: must be >= 0 (0 = off)")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens={self.max_tokens}: must be >= 1 (try 256)")
        if any(not s for s in self.stop):
            raise ConfigError(f"stop={self.stop!r}: empty stop strings are not allowed")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> SamplingParams:
        """Build from a benchmark's ``default_params`` (+ overrides); unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown generation settings {sorted(unknown)}: use {sorted(known)}")
        return cls(**{k: x for k, x in values.items() if x is not None})

    def greedy(self) -> SamplingParams:
        """Greedy pass@1 settings: one sample, temperature 0."""
        return replace(self, n=1, temperature=0.0, top_p=1.0, top_k=0)


GenerationParams = SamplingParams
"""The name evaluation code used before the settings types were merged."""
