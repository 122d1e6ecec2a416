"""Score an existing generations file in a benchmark's official format; write summary + samples.

* CRUXEval: ``{"sample_0": ["...", ...], ...}`` with already-extracted answers (output mode: the
  literal; input mode: the ``f(...)`` call), exactly what ``evaluate_generations.py`` reads.
* LiveCodeBench execution: the same dict keyed by ``id``, or a list (in id order) of lists of raw
  generations; raw outputs are extracted with the official rule.
* HumanEval / MBPP: the official samples JSONL, ``{"task_id", "completion"}`` per line.
* REval: the official ``model_generations/{task}@{model}/{time}.jsonl`` logs (raw ``generated``
  texts are re-judged against our run-time ground truth).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stepcode.errors import DataError
from stepcode.eval.benchmarks.base import EvalItem, SampleScore, ScoreMode, ScoreReport
from stepcode.io import write_json, write_jsonl


def read_generations(path: str | Path, items: Sequence[EvalItem]) -> dict[str, list[str]]:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"generations file not found: {p}")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{p}: not JSON ({e.msg} at line {e.lineno})") from None
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


def score_file(benchmark: str, mode: str, generations: str | Path, data: str | None, out_dir: str | Path,
               score_mode: ScoreMode = "official", limit: int | None = None) -> ScoreReport:  # fmt: skip
    """Score ``generations`` and write ``out_dir/summary.json`` and ``out_dir/samples.jsonl``."""
    from stepcode.eval.benchmarks.cruxeval import load_cruxeval, score_generations
    from stepcode.eval.benchmarks.lcb import extract_lcb, load_lcb, score_extracted

    if not Path(generations).exists():
        raise DataError(f"generations file not found: {generations}")
    if benchmark == "cruxeval":
        if mode not in ("output", "input"):
            raise DataError(f"--mode {mode!r}: CRUXEval needs output or input")
        items = load_cruxeval(data, limit)
        gens = read_generations(generations, items)
        report = score_generations(f"cruxeval-{mode[0]}", mode, items, gens, gens, mode=score_mode)
    elif benchmark == "lcb":
        items = load_lcb(data, limit)
        gens = read_generations(generations, items)
        extracted = {k: [extract_lcb(g, cot=True) for g in gs] for k, gs in gens.items()}
        report = score_extracted("lcb", items, gens, extracted, mode=score_mode)
    elif benchmark == "reval":
        report = score_reval_logs(mode, generations, data, limit)
    elif benchmark in ("humaneval", "mbpp"):  # the official samples JSONL (task_id, completion)
        from stepcode.eval.benchmarks.humaneval import score_samples_file

        report = score_samples_file(generations, data, limit, schema=benchmark)
        items = []
    else:
        raise DataError(
            f"--benchmark {benchmark!r}: choose cruxeval, lcb, reval, humaneval or mbpp"
        )
    meta = {} if benchmark == "reval" else {it.item_id: item_meta(it) for it in items}
    write_report_files(report, out_dir, meta=meta)
    return report


def length_bucket(code: str) -> str:
    """Program length group by non-empty lines: 1-5, 6-10, 11-20, 21+ (report plots)."""
    n = sum(1 for x in code.splitlines() if x.strip())
    for hi, label in ((5, "1-5"), (10, "6-10"), (20, "11-20")):
        if n <= hi:
            return label
    return "21+"


def item_meta(item: EvalItem) -> dict[str, str]:
    meta = {"length": length_bucket(str(item.data.get("code", "")))}
    if item.data.get("difficulty"):
        meta["difficulty"] = str(item.data["difficulty"])
    return meta


def score_reval_logs(
    mode: str, generations: str | Path, data: str | None, limit: int | None
) -> ScoreReport:
    """REval: ``generations`` is one official log (``--mode coverage|state|path|output``) or, with
    ``--mode all``, a ``model_generations`` directory; the latest ``{task}@*/*.jsonl`` per task is used
    (as REval's Consistency does) and Incremental Consistency is reported."""
    from stepcode.eval.benchmarks import reval

    if data is None:
        raise DataError(
            "REval needs --data DIR (the directory with DREval_data.jsonl and DREval_tasks.jsonl)"
        )
    g = Path(generations)
    if mode == "all":
        if not g.is_dir():
            raise DataError(
                f"--mode all needs --generations to be a model_generations directory: {g}"
            )
        logs = {}
        for task in reval.TASKS:
            found = sorted(g.glob(f"{task}@*/*.jsonl"), key=lambda f: f.stat().st_mtime)
            if not found:
                raise DataError(f"{g}: no {task}@*/*.jsonl log")
            logs[task] = reval.read_official_log(found[-1])
    elif mode in reval.TASKS:
        logs = {mode: reval.read_official_log(g)}
    else:
        raise DataError(f"--mode {mode!r}: REval needs coverage, state, path, output or all")
    items, skipped = reval.load_reval(data, limit)
    cot = any("[/THOUGHT]" in x for log in logs.values() for gs in log.values() for x in gs)
    traces = reval.trace_items(items)
    summary, results = reval.score_reval(items, traces, logs, cot=cot)
    samples = tuple(
        SampleScore(item_id=f"{r.item_id}:{r.task}", sample_idx=r.q, generation=r.generation,
                    extracted=json.dumps(r.response), correct=r.correct, skipped=False,
                    reason=f"expected {json.dumps(r.expected)}")
        for r in results
    )  # fmt: skip
    notes = (
        f"ClassEval pairs skipped (their modules are not installed; `pip install stepcode[reval]`): {skipped}",
        f"prompt style detected: {'cot' if cot else 'direct'}",
        "ground truth from stepcode's tracer (REval rules), computed at run time",
    )
    summary = {**summary, "classeval_skipped_missing_deps": float(skipped)}
    name = "reval" if mode == "all" else f"reval-{mode}"
    return ScoreReport(
        benchmark=name, mode="official", summary=summary, samples=samples, notes=notes
    )


def write_report_files(
    report: ScoreReport,
    out_dir: str | Path,
    extra: Mapping[str, Any] | None = None,
    meta: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """``summary.json`` and ``samples.jsonl``; ``meta[item_id]`` (difficulty, length...) is merged
    into that item's sample rows for the report's grouped plots."""
    meta = meta or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"benchmark": report.benchmark, "score_mode": report.mode, **report.summary,
               "notes": list(report.notes), **(extra or {})}  # fmt: skip
    write_json(out / "summary.json", summary)
    write_jsonl(out / "samples.jsonl", [
        {"item_id": s.item_id, "sample_idx": s.sample_idx, "generation": s.generation, "extracted": s.extracted,
         "correct": s.correct, "skipped": s.skipped, "reason": s.reason, **meta.get(s.item_id, {})}
        for s in report.samples
    ])  # fmt: skip
