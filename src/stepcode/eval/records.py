"""A scored benchmark on disk: ``summary.json`` + ``samples.jsonl`` (one ``SampleRecord`` per line).

``eval run`` and ``eval score`` both write through ``write_scored``, so their directories look the
same and ``eval report`` draws the same plots for both: each row's ``group`` holds the labels the
plots break accuracy down by (``length`` of the program, LiveCodeBench ``difficulty``, synthesizer
``level``), each aligned row its ``steps``. ``read_samples`` reads the rows back (strictly: a broken
row is a ``DataError`` naming the file and line).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stepcode.display import printable
from stepcode.errors import DataError
from stepcode.eval.benchmarks.assert_scoring import official_only
from stepcode.eval.benchmarks.base import EvalItem, ScoreReport
from stepcode.io import read_jsonl, write_json, write_jsonl
from stepcode.types import SampleRecord

MAX_LISTED = 50
"""official-only generations listed by name in ``summary.json`` (all are in ``samples.jsonl``)"""


def length_bucket(code: str) -> str:
    """Program length group by non-empty lines: 1-5, 6-10, 11-20, 21+ (report plots)."""
    n = sum(1 for x in code.splitlines() if x.strip())
    for hi, label in ((5, "1-5"), (10, "6-10"), (20, "11-20")):
        if n <= hi:
            return label
    return "21+"


def item_group(item: EvalItem) -> dict[str, str]:
    """The labels an item's samples are grouped by in the report."""
    d = item.data
    group = {"length": length_bucket(str(d["code"]))} if d.get("code") else {}
    if d.get("difficulty"):
        group["difficulty"] = str(d["difficulty"])
    task = d.get("task")
    level = getattr(task, "metadata", {}).get("level") if task is not None else d.get("level")
    if level is not None:
        group["level"] = str(level)
    return group


def sample_records(
    report: ScoreReport,
    items: Sequence[EvalItem],
    prompts: Mapping[tuple[str, int], Any] | None = None,
) -> list[SampleRecord]:
    """The report's samples with the benchmark name, each item's ``group`` and (when known) the
    prompt each sample was generated from (``prompts[(item_id, sample_idx)]``)."""
    groups = {it.item_id: item_group(it) for it in items}
    prompts = prompts or {}
    out = []
    for s in report.samples:
        prompt = prompts.get((s.item_id, s.sample_idx), s.prompt)
        if isinstance(prompt, list):
            prompt = tuple(dict(m) for m in prompt)
        out.append(replace(s, benchmark=s.benchmark or report.benchmark, prompt=prompt or "",
                           group={**groups.get(s.item_id, {}), **s.group}))  # fmt: skip
    return out


def summary_json(report: ScoreReport, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``summary.json``: the numbers, the notes and the generations that pass only as code."""
    flagged = official_only(report.samples)
    out: dict[str, Any] = {"benchmark": report.benchmark, "score_mode": report.mode,
                           **report.summary, "notes": list(report.notes), **(extra or {})}  # fmt: skip
    if flagged:
        out["official_only_samples"] = [
            {"item_id": s.item_id, "sample_idx": s.sample_idx,
             "extracted": printable(s.extracted, 200), "by_value": s.audit.removeprefix("by_value:")}
            for s in flagged[:MAX_LISTED]
        ]  # fmt: skip
    return out


def write_scored(
    out_dir: str | Path,
    report: ScoreReport,
    records: Sequence[SampleRecord],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``out_dir/summary.json`` and ``out_dir/samples.jsonl``; returns the summary written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summary_json(report, extra)
    write_jsonl(out / "samples.jsonl", [r.to_dict() for r in records])
    write_json(out / "summary.json", summary)
    return summary


def read_samples(path: str | Path) -> list[SampleRecord]:
    rows = []
    for i, row in enumerate(read_jsonl(path, strict=True), 1):
        try:
            rows.append(SampleRecord.from_dict(row))
        except DataError as e:
            raise DataError(f"{path}: row {i}: {e}") from None
    return rows
