"""What every benchmark provides: load, the official prompt, the official extraction, the score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ScoreMode = Literal["official", "strict"]


@dataclass(frozen=True, kw_only=True)
class EvalItem:
    item_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    """the benchmark's own fields (code, input, output, ...)"""


@dataclass(frozen=True, kw_only=True)
class SampleScore:
    item_id: str
    sample_idx: int
    generation: str
    extracted: str | None
    correct: bool
    skipped: bool
    """dropped by the official anti-copy rule (official mode removes it from n)"""
    reason: str


@dataclass(frozen=True, kw_only=True)
class ScoreReport:
    benchmark: str
    mode: str
    summary: Mapping[str, float]
    samples: tuple[SampleScore, ...]
    notes: tuple[str, ...] = ()


class Benchmark(Protocol):
    name: str
    default_params: Mapping[str, Any]
    """official n, temperature, top_p, max_tokens, stop"""
    prompt_style: Literal["raw", "chat"]

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]: ...

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]: ...

    def extract(self, item: EvalItem, generation: str) -> str | None: ...

    def score(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport: ...


def hf_rows(dataset: str, split: str = "test") -> list[dict[str, Any]]:
    """Rows of a Hugging Face dataset (hub id or local path); a clear DataError when unreachable."""
    from stepcode.errors import DataError

    try:
        import datasets

        return [dict(r) for r in datasets.load_dataset(dataset, split=split)]
    except (ConnectionError, OSError, ValueError, FileNotFoundError) as e:
        raise DataError(
            f"could not load {dataset!r} (split {split}) with datasets.load_dataset: {e}. "
            "Without network access pass a local file with --data."
        ) from None
