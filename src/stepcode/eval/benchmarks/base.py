"""What every benchmark provides: load, a prompt, the official extraction, the official score.

``Benchmark`` is the protocol ``eval run`` and ``eval score`` use (``get_benchmark`` builds one by
name). Optional, read with ``getattr``: ``prompt_info`` (a mapping recorded in ``settings.json``:
which prompt set, from where), ``read_generations_file(path, items)`` (the benchmark's official
generations file -> ``(generations, extracted answers or None)``; default: ``read_id_keyed_json``
of raw generations), ``score_extracted`` (``ScoresExtracted``: official generation files
that hold already-extracted answers, as CRUXEval's do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from stepcode.types import SampleRecord

ScoreMode = Literal["official", "strict"]


@dataclass(frozen=True, kw_only=True)
class EvalItem:
    item_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    """the benchmark's own fields (code, input, output, ...)"""


SampleScore = SampleRecord
"""a benchmark's per-sample verdict is the ``samples.jsonl`` row (``stepcode.types.SampleRecord``);
``skipped``: dropped by the official anti-copy rule (official mode removes it from n)"""


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


@runtime_checkable
class ScoresExtracted(Protocol):
    """A benchmark that can score answers already extracted from the generations."""

    def score_extracted(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        extracted: Mapping[str, Sequence[str | None]],
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


def read_id_keyed_json(path: str | Path, items: Sequence[EvalItem]) -> dict[str, list[str]]:
    """An official generations file: ``{"sample_0": ["...", ...], ...}`` keyed by item id (a bare
    string stands for one generation), or a list of lists in item order."""
    import json

    from stepcode.errors import DataError

    p = Path(path)
    if not p.is_file():
        raise DataError(f"generations file not found: {p}")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{p}: not JSON ({e})") from None
    if isinstance(raw, list):
        if len(raw) != len(items):
            raise DataError(f"{p}: {len(raw)} entries for {len(items)} items")
        raw = {it.item_id: gs for it, gs in zip(items, raw, strict=True)}
    if not isinstance(raw, dict):
        raise DataError(f"{p}: expected a JSON object keyed by sample id")
    out: dict[str, list[str]] = {}
    for it in items:
        gs = raw.get(it.item_id)
        if gs is None:
            raise DataError(
                f"{p}: no generations for {it.item_id} (keys must be the dataset ids, e.g. sample_0)"
            )
        if isinstance(gs, str):
            gs = [gs]
        if not isinstance(gs, list) or not all(isinstance(g, str) for g in gs):
            raise DataError(f"{p}: {it.item_id} must map to a list of strings")
        out[it.item_id] = gs
    return out
