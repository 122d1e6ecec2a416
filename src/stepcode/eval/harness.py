"""Run benchmarks against a generation ``Engine``: resumable generation, official scoring, summaries.

``run_eval(cfg)`` builds the engine and the benchmarks an ``EvalConfig`` names and calls
``evaluate(engine, benchmarks, cfg, out_dir)``, which does, per benchmark ``B``:

1. load items (``cfg.data`` path or the benchmark's default source; ``cfg.limit`` first items);
2. settings = ``B.default_params`` (the official n / temperature / top_p / max_tokens / stop), then
   ``cfg.sampling`` overrides, then ``cfg.sampling.greedy`` (n=1, temperature 0), plus the prompt
   set used (``B.prompt_info``) — recorded in the summary;
3. generation into ``OUT/B/generations.jsonl``: one line per sample, appended and fsynced after each
   chunk of ``cfg.chunk_size`` items. On a rerun the file is read back (a torn last line from a
   kill -9 is ignored), and only the missing ``(item, sample)`` pairs are generated;
4. scoring with ``B.score`` (official or strict mode), ``OUT/B/samples.jsonl`` (one
   ``SampleRecord`` per sample, through ``eval.records``) and ``OUT/B/summary.json``;
   ``OUT/summary.json`` for all, and ``OUT/report.html`` with its plots (``eval.report``).

The resume key is ``(item_id, sample_idx)``. The settings are stored in ``OUT/B/settings.json``: a
rerun that asks for other settings (sampling, prompt set, prompt style) is refused with a
``ConfigError`` instead of mixing generations. Not done here: printing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stepcode.errors import ConfigError, DataError
from stepcode.eval.benchmarks.assert_scoring import official_only
from stepcode.eval.benchmarks.base import Benchmark, EvalItem
from stepcode.eval.config import EvalConfig
from stepcode.eval.records import sample_records, write_scored
from stepcode.io import append_jsonl, read_jsonl, write_json
from stepcode.rollout.engines import Engine
from stepcode.rollout.params import SamplingParams
from stepcode.types import SampleRecord

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
"""``(benchmark, samples_done, samples_total)``"""


@dataclass(frozen=True, kw_only=True)
class BenchmarkResult:
    name: str
    summary: Mapping[str, Any]
    settings: Mapping[str, Any]
    """the generation settings that produced the numbers"""
    n_items: int
    n_generated: int
    """samples generated in this run (the rest came from a previous run)"""
    out_dir: str
    notes: tuple[str, ...] = ()
    official_only: tuple[SampleRecord, ...] = ()
    """samples that pass the official check only as code (``assert_scoring.official_only``)"""


@dataclass(frozen=True, kw_only=True)
class EvalReport:
    results: tuple[BenchmarkResult, ...]
    out_dir: str
    wall_s: float


def resolve_benchmark(name: str, **opts: Any) -> Benchmark:
    """A benchmark by name (``get_benchmark``); ``opts`` go to its constructor."""
    from stepcode.eval.benchmarks import get_benchmark

    return get_benchmark(name, **opts)


def benchmarks_for(cfg: EvalConfig) -> list[Benchmark]:
    """The benchmarks ``cfg`` names (aliases expanded), built with the config's prompt options."""
    from stepcode.eval.benchmarks import expand_names, get_benchmark

    names = expand_names(cfg.benchmarks)
    if not names:
        raise ConfigError("benchmarks: name at least one (e.g. [cruxeval-o, cruxeval-i])")
    return [get_benchmark(n, **cfg.benchmark_options(n)) for n in names]


def settings_for(bench: Benchmark, cfg: EvalConfig) -> SamplingParams:
    """Official defaults, then overrides, then greedy."""
    values = dict(bench.default_params)
    values.update(cfg.sampling.values())
    params = SamplingParams.from_mapping(values)
    return params.greedy() if cfg.sampling.greedy else params


def read_run_generations(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """``generations.jsonl`` records by ``(item_id, sample_idx)``; a torn last line is dropped
    (the append-only log of a killed run)."""
    done: dict[tuple[str, int], dict[str, Any]] = {}
    if not path.exists():
        return done
    for i, rec in enumerate(read_jsonl(path), 1):
        key = (rec.get("item_id"), rec.get("sample_idx"))
        if not isinstance(key[0], str) or not isinstance(key[1], int) or "generation" not in rec:
            raise DataError(f"{path}: record {i} is not a generation record; delete the file to regenerate")  # fmt: skip
        done[key] = rec  # type: ignore[index]
    return done


def _repair_tail(path: Path) -> None:
    """Cut a torn last line so later appends start on a fresh line."""
    if path.exists():
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])


def _check_settings(bench_dir: Path, settings: dict[str, Any]) -> None:
    path = bench_dir / "settings.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != settings:
            diff = sorted(k for k in {*old, *settings} if old.get(k) != settings.get(k))
            what = "; ".join(f"{k}: {old.get(k)!r} there, {settings.get(k)!r} now" for k in diff)
            raise ConfigError(
                f"{bench_dir} holds generations made with other settings ({what}): "
                "use another --out directory (or delete that one)"
            )
    else:
        write_json(path, settings)


def generate_missing(
    engine: Engine,
    bench: Benchmark,
    items: Sequence[EvalItem],
    params: SamplingParams,
    path: Path,
    *,
    chunk_size: int = 32,
    progress: ProgressFn | None = None,
) -> tuple[dict[tuple[str, int], dict[str, Any]], int]:
    """Generate every ``(item, sample)`` not already in ``path``; returns (all records, new count)."""
    _repair_tail(path)
    done = read_run_generations(path)
    total = len(items) * params.n
    todo: dict[int, list[EvalItem]] = {}  # missing count -> items
    for it in items:
        have = sum((it.item_id, s) in done for s in range(params.n))
        if have < params.n:
            todo.setdefault(params.n - have, []).append(it)
    n_new = 0
    if progress:
        progress(bench.name, total - sum(k * len(v) for k, v in todo.items()), total)
    for k, group in todo.items():
        sub = SamplingParams(**{**asdict(params), "n": k})
        for start in range(0, len(group), chunk_size):
            chunk = group[start : start + chunk_size]
            prompts = [bench.prompt(it) for it in chunk]
            outs = engine.generate(prompts, sub)
            recs = []
            for it, prompt, comps in zip(chunk, prompts, outs, strict=True):
                free = [s for s in range(params.n) if (it.item_id, s) not in done]
                for s, c in zip(free, comps, strict=False):
                    rec = {"item_id": it.item_id, "sample_idx": s, "prompt": prompt,
                           "generation": c.text, "finish_reason": c.finish_reason,
                           "n_tokens": c.n_tokens}  # fmt: skip
                    done[(it.item_id, s)] = rec
                    recs.append(rec)
            append_jsonl(path, recs)
            n_new += len(recs)
            if progress:
                progress(bench.name, len(done), total)
    return done, n_new


def run_benchmark(
    engine: Engine,
    bench: Benchmark,
    cfg: EvalConfig,
    out_dir: Path,
    progress: ProgressFn | None = None,
) -> BenchmarkResult:
    """Generate (resumably), score, and write ``OUT/<name>/{samples.jsonl,summary.json}``."""
    bench_dir = out_dir / bench.name
    bench_dir.mkdir(parents=True, exist_ok=True)
    items = bench.load(cfg.data.get(bench.name), cfg.limit)
    params = settings_for(bench, cfg)
    prompts = getattr(bench, "prompt_info", None) or {"prompts": "benchmark's own"}
    settings = {**asdict(params), "stop": list(params.stop), "greedy": cfg.sampling.greedy,
                "prompt_style": getattr(bench, "prompt_style", "raw"), **prompts}  # fmt: skip
    _check_settings(bench_dir, settings)
    recs, n_new = generate_missing(
        engine, bench, items, params, bench_dir / "generations.jsonl",
        chunk_size=cfg.chunk_size, progress=progress,
    )  # fmt: skip
    gens = {it.item_id: [recs[(it.item_id, s)]["generation"] for s in range(params.n)]
            for it in items}  # fmt: skip
    report = bench.score(items, gens, mode=cfg.score_mode)
    prompt_of = {k: r.get("prompt") for k, r in recs.items()}
    extra = {"n_items": len(items), "settings": settings}
    write_scored(bench_dir, report, sample_records(report, items, prompt_of), extra)
    return BenchmarkResult(
        name=bench.name, summary=dict(report.summary), settings=settings, n_items=len(items),
        n_generated=n_new, out_dir=str(bench_dir), notes=tuple(report.notes),
        official_only=tuple(official_only(report.samples)),
    )  # fmt: skip


def evaluate(
    engine: Engine,
    benchmarks: Sequence[str | Benchmark],
    cfg: EvalConfig | None = None,
    out_dir: str | Path | None = None,
    *,
    progress: ProgressFn | None = None,
    model_name: str | None = None,
) -> EvalReport:
    """Run every benchmark; writes ``OUT/summary.json`` and ``OUT/report.html`` (``out_dir``
    defaults to ``cfg.out``)."""
    cfg = cfg or EvalConfig()
    out = Path(out_dir if out_dir is not None else cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    benches = [resolve_benchmark(b, **cfg.benchmark_options(b)) if isinstance(b, str) else b
               for b in benchmarks]  # fmt: skip
    t0 = time.perf_counter()
    results = tuple(run_benchmark(engine, b, cfg, out, progress) for b in benches)
    report = EvalReport(results=results, out_dir=str(out), wall_s=time.perf_counter() - t0)
    write_json(out / "summary.json", {
        "model": model_name, "score_mode": cfg.score_mode, "wall_s": round(report.wall_s, 3),
        "benchmarks": {r.name: _read_summary(Path(r.out_dir)) for r in results},
    })  # fmt: skip
    _write_html_report(out)
    return report


def run_eval(cfg: EvalConfig, *, progress: ProgressFn | None = None) -> EvalReport:
    """``stepcode eval CONFIG.yaml``: build the config's engine and benchmarks, evaluate into
    ``cfg.out`` (which also gets the resolved ``config.yaml``)."""
    from stepcode.config import dump_config
    from stepcode.rollout.engines import make_engine

    if not cfg.model.path:
        raise ConfigError(
            "model.path: which model to evaluate (a local dir, hub id or served name)"
        )
    benches = benchmarks_for(cfg)  # config errors before any model loads
    m = cfg.model
    if m.backend == "openai":
        engine = make_engine("openai", m.path, base_url=m.base_url, concurrency=m.concurrency)
    elif m.backend == "hf":
        engine = make_engine("hf", m.path, batch_size=m.batch_size)
    else:
        engine = make_engine(m.backend, m.path)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, out / "config.yaml")
    return evaluate(engine, benches, cfg, out, progress=progress, model_name=m.path)


def _read_summary(bench_dir: Path) -> dict[str, Any]:
    return json.loads((bench_dir / "summary.json").read_text(encoding="utf-8"))


def _write_html_report(out: Path) -> None:
    from stepcode.eval.report import write_report

    try:
        write_report(out)
    except Exception as e:  # noqa: BLE001 - the report is a convenience; the numbers are on disk
        log.warning("HTML report failed: %s", e)


__all__ = ["BenchmarkResult", "EvalConfig", "EvalReport", "evaluate", "run_eval"]
