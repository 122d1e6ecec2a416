"""``stepcode eval score``: score an existing generations file through the benchmark's front door.

``score_file(name, generations, data, out)`` takes ``eval run``'s benchmark names
(``get_benchmark``), reads the benchmark's official generations format and scores it with the
benchmark's own ``score`` into ``OUT/summary.json`` + ``OUT/samples.jsonl`` (``eval.records``, the
same files ``eval run`` writes). Formats:

* CRUXEval: ``{"sample_0": ["...", ...], ...}`` with already-extracted answers (output mode: the
  literal; input mode: the ``f(...)`` call), exactly what ``evaluate_generations.py`` reads.
* LiveCodeBench execution: the same dict keyed by ``id``, or a list (in id order) of lists of raw
  generations; raw outputs are extracted with the official rule (``lcb-cot``: the CoT rule).
* REval: an official ``model_generations/{task}@{model}/{time}.jsonl`` log for ``reval-<task>``;
  for ``reval`` (all four tasks, Incremental Consistency) a ``model_generations`` directory, whose
  latest ``{task}@*/*.jsonl`` per task is used, as REval's Consistency does.
* Any other benchmark: its ``read_generations_file`` (see ``benchmarks.base``), else the id-keyed JSON.

The old spellings (``--benchmark cruxeval --mode output``, ``--benchmark reval --mode state``) are
still accepted: ``resolve_name`` maps them and the summary's notes say what to write instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from stepcode.errors import ConfigError, DataError
from stepcode.eval.benchmarks import REGISTRY, get_benchmark
from stepcode.eval.benchmarks.base import (
    Benchmark,
    EvalItem,
    ScoreMode,
    ScoreReport,
    ScoresExtracted,
    read_id_keyed_json,
)
from stepcode.eval.records import sample_records, write_scored

_OLD = {("cruxeval", "output"): "cruxeval-o", ("cruxeval", "input"): "cruxeval-i"}
_REVAL_TASKS = ("coverage", "state", "path", "output")


def resolve_name(
    benchmark: str, mode: str | None, generations: str | Path
) -> tuple[str, str | None]:
    """``(eval run's benchmark name, deprecation note or None)`` for ``--benchmark/--mode``."""
    if mode is None and (benchmark in REGISTRY or benchmark == "reval"):
        return benchmark, None
    if (benchmark, mode) in (("reval", "all"), ("lcb", "output")):  # the old spellings of these
        return (
            benchmark,
            f"deprecated: --mode {mode} is not needed, --benchmark {benchmark} says it",
        )
    if benchmark in REGISTRY:
        raise ConfigError(f"--mode {mode!r}: {benchmark} is a full benchmark name, drop --mode")
    if benchmark == "cruxeval":
        name = _OLD.get(("cruxeval", mode or "output"))
        if name is None:
            raise ConfigError(f"--mode {mode!r}: CRUXEval needs output or input")
    elif benchmark == "reval" and mode in _REVAL_TASKS:
        cot = "[/THOUGHT]" in Path(generations).read_text(encoding="utf-8", errors="replace")
        name = f"reval-{mode}" + ("-cot" if cot else "")
    else:
        raise ConfigError(
            f"--benchmark {benchmark!r}: choose one of {', '.join(REGISTRY)}, or reval (all tasks)"
        )
    return name, f"deprecated: --benchmark {benchmark} --mode {mode} is --benchmark {name}"


def score_file(benchmark: str, generations: str | Path, data: str | None, out_dir: str | Path,
               score_mode: ScoreMode = "official", limit: int | None = None, *,
               mode: str | None = None) -> ScoreReport:  # fmt: skip
    """Score ``generations`` and write ``out_dir/summary.json`` and ``out_dir/samples.jsonl``."""
    if not Path(generations).exists():
        raise DataError(f"generations file not found: {generations}")
    name, note = resolve_name(benchmark, mode, generations)
    if name == "reval":
        report, items = score_reval_dir(generations, data, limit), []
    else:
        bench = get_benchmark(name)
        items = bench.load(data, limit)
        gens, extracted = read_generations_file(bench, generations, items)
        if extracted is not None and isinstance(bench, ScoresExtracted):
            report = bench.score_extracted(items, gens, extracted, mode=score_mode)
        else:
            report = bench.score(items, gens, mode=score_mode)
    if note:
        report = ScoreReport(benchmark=report.benchmark, mode=report.mode, summary=report.summary,
                             samples=report.samples, notes=(note, *report.notes))  # fmt: skip
    extra = {"generations": str(generations)}
    write_scored(out_dir, report, sample_records(report, items), extra)
    return report


def read_generations_file(
    bench: Benchmark, path: str | Path, items: Sequence[EvalItem]
) -> tuple[dict[str, list[str]], dict[str, list[str]] | None]:
    """``(generations by item id, extracted answers or None)`` from ``bench``'s official file."""
    reader = getattr(bench, "read_generations_file", None)
    if reader is not None:
        return reader(path, items)
    return read_id_keyed_json(path, items), None


def score_reval_dir(generations: str | Path, data: str | None, limit: int | None) -> ScoreReport:
    """All four REval tasks from a ``model_generations`` directory, with Incremental Consistency."""
    from stepcode.eval.benchmarks import reval
    from stepcode.eval.benchmarks.base import SampleScore

    if data is None:
        raise DataError(
            "REval needs --data DIR (the directory with DREval_data.jsonl and DREval_tasks.jsonl)"
        )
    g = Path(generations)
    if not g.is_dir():
        raise DataError(f"--benchmark reval needs --generations to be a model_generations directory: {g}")  # fmt: skip
    logs = {}
    for task in reval.TASKS:
        found = sorted(g.glob(f"{task}@*/*.jsonl"), key=lambda f: f.stat().st_mtime)
        if not found:
            raise DataError(f"{g}: no {task}@*/*.jsonl log")
        logs[task] = reval.read_official_log(found[-1])
    items, skipped = reval.load_reval(data, limit)
    cot = any("[/THOUGHT]" in x for log in logs.values() for gs in log.values() for x in gs)
    summary, results = reval.score_reval(items, reval.trace_items(items), logs, cot=cot)
    samples = tuple(
        SampleScore(item_id=f"{r.item_id}:{r.task}", sample_idx=r.q, benchmark="reval",
                    generation=r.generation, extracted=json.dumps(r.response), correct=r.correct,
                    reason=f"expected {json.dumps(r.expected)}")
        for r in results
    )  # fmt: skip
    notes = (
        f"ClassEval pairs skipped (their modules are not installed; `pip install stepcode[reval]`): {skipped}",
        f"prompt style detected: {'cot' if cot else 'direct'}",
        "ground truth from stepcode's tracer (REval rules), computed at run time",
    )
    summary = {**summary, "classeval_skipped_missing_deps": float(skipped)}
    return ScoreReport(benchmark="reval", mode="official", summary=summary, samples=samples,
                       notes=notes)  # fmt: skip
