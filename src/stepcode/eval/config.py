"""``EvalConfig``: what ``stepcode eval CONFIG.yaml`` (and ``eval run``) runs, as a typed config.

Loaded like every stepcode config (``stepcode.config.load_config(EvalConfig, path, ["key=value"])``):
unknown keys are errors with a "did you mean", every problem is reported at once. Shipped configs
live in ``configs/eval/``. A minimal one::

    model: {path: Qwen/Qwen2.5-Coder-7B-Instruct, backend: vllm}
    benchmarks: [cruxeval-o, cruxeval-i]
    sampling: {greedy: true}
    data: {cruxeval-o: data/cruxeval.jsonl, cruxeval-i: data/cruxeval.jsonl}
    out: runs/eval/qwen7b

``prompts: official`` renders the benchmarks' own prompt text, read from the user's copy of each
harness (``harness: {cruxeval: PATH, lcb: PATH}`` or ``STEPCODE_CRUXEVAL_HARNESS`` /
``STEPCODE_LCB_HARNESS``); the default ``stepcode`` uses stepcode's wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from stepcode.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """Which model answers, through which backend."""

    path: str = ""
    """local directory or hub id (hf, vllm), or the served model name (openai)"""
    backend: Literal["hf", "vllm", "openai"] = "hf"
    base_url: str | None = None
    """openai backend: the server's URL (``http://host:port/v1``)"""
    concurrency: int = 8
    """openai backend: parallel requests"""
    batch_size: int = 16
    """hf backend: prompts per generation batch"""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1:
            raise ConfigError(
                f"concurrency={self.concurrency}, batch_size={self.batch_size}: both must be >= 1"
            )


@dataclass(frozen=True, kw_only=True)
class SamplingOverrides:
    """Generation settings over each benchmark's official defaults; unset keeps the default."""

    n: int | None = None
    """completions per item"""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    """new tokens per completion"""
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    greedy: bool = False
    """greedy pass@1 (n=1, temperature 0) instead of the official sampling settings"""

    def values(self) -> dict[str, Any]:
        """The overrides that are set, without ``greedy``."""
        return {k: v for k, v in asdict(self).items() if v is not None and k != "greedy"}


SAMPLING_KEYS = frozenset(SamplingOverrides.__dataclass_fields__)


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    """How ``evaluate`` runs (``eval run``, ``stepcode eval CONFIG.yaml``)."""

    model: EngineConfig = field(default_factory=EngineConfig)
    benchmarks: tuple[str, ...] = ("cruxeval-o", "cruxeval-i")
    """benchmark names (``stepcode.eval.benchmarks.NAMES``; ``reval`` = its four tasks)"""
    out: str = "runs/eval"
    """output directory; rerun with the same settings to resume"""
    limit: int | None = None
    """first N items of each benchmark (None = all)"""
    sampling: SamplingOverrides = field(default_factory=SamplingOverrides)
    data: Mapping[str, str] = field(default_factory=dict)
    """benchmark name -> local data path (default: the benchmark's own source)"""
    prompts: Literal["stepcode", "official"] = "stepcode"
    """stepcode's prompt wording, or the benchmarks' official text (needs ``harness``)"""
    harness: Mapping[str, str] = field(default_factory=dict)
    """benchmark family (cruxeval, lcb, reval) -> the user's copy of its official harness"""
    prompt_style: Literal["default", "raw", "chat"] = "default"
    """raw completion or chat messages (default: each benchmark's official style)"""
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """benchmark name -> its own constructor options, e.g.
    ``{cruxeval-o-aligned: {template: compact, strict_types: true}}`` (unknown ones are errors)"""
    chunk_size: int = 32
    """items per engine call; generations are persisted after each chunk"""
    score_mode: Literal["official", "strict"] = "official"
    """official | strict (strict counts anti-copy-skipped generations as failures)"""

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit={self.limit}: must be >= 1 (or unset for all items)")
        if self.chunk_size < 1:
            raise ConfigError(f"chunk_size={self.chunk_size}: must be >= 1")
        if self.score_mode not in ("official", "strict"):
            raise ConfigError(f"score_mode={self.score_mode!r}: choose official or strict")
        if isinstance(self.benchmarks, str):
            object.__setattr__(self, "benchmarks", tuple(self.benchmarks.split(",")))
        if not all(isinstance(v, Mapping) for v in self.options.values()):
            raise ConfigError(
                f"options: map each benchmark name to its options, got {self.options!r}"
            )
        unknown = set(self.harness) - {"cruxeval", "lcb", "reval"}
        if unknown:
            raise ConfigError(
                f"harness: unknown benchmark family {sorted(unknown)}: use cruxeval, lcb, reval"
            )

    def benchmark_options(self, name: str) -> dict[str, Any]:
        """Constructor options this config gives benchmark ``name`` (those it accepts)."""
        from stepcode.eval.benchmarks import accepted_options

        family = "lcb" if name.startswith("lcb") else name.split("-")[0]
        opts: dict[str, Any] = {"prompts": self.prompts, "harness": self.harness.get(family)}
        if self.prompt_style != "default":
            opts["prompt_style"] = self.prompt_style
        return {**accepted_options(name, opts), **self.options.get(name, {})}
