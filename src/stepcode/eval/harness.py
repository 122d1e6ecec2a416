"""Run benchmarks against a generation ``Engine``: resumable generation, official scoring, summaries.

``evaluate(engine, benchmarks, cfg, out_dir)`` does, per benchmark ``B``:

1. load items (``cfg.data`` path or the benchmark's default source; ``cfg.limit`` first items);
2. settings = ``B.default_params`` (the official n / temperature / top_p / max_tokens / stop), then
   ``cfg.overrides``, then ``cfg.greedy`` (n=1, temperature 0) — recorded in the summary;
3. generation into ``OUT/B/generations.jsonl``: one line per sample, appended and fsynced after each
   chunk of ``cfg.chunk_size`` items. On a rerun the file is read back (a torn last line from a
   kill -9 is ignored), and only the missing ``(item, sample)`` pairs are generated;
4. scoring with ``B.score`` (official or strict mode), ``OUT/B/samples.jsonl`` (prompt, generation,
   extracted answer, verdict, reason) and ``OUT/B/summary.json``; ``OUT/summary.json`` for all.

The resume key is ``(item_id, sample_idx)``; generations produced under different settings are NOT
detected (the settings are stored in ``OUT/B/settings.json`` and a mismatch is a ``ConfigError``).
Not done here: the HTML report (``stepcode.eval.report``, called when present), printing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stepcode.errors import ConfigError, DataError
from stepcode.eval.benchmarks.base import Benchmark, EvalItem
from stepcode.io import append_jsonl, write_json, write_jsonl
from stepcode.rollout.engines import Engine, GenerationParams

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
"""``(benchmark, samples_done, samples_total)``"""


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    """How ``evaluate`` runs."""

    limit: int | None = None
    """first N items of each benchmark (None = all)"""
    greedy: bool = False
    """greedy pass@1 (n=1, temperature 0) instead of the official sampling settings"""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """generation settings over the benchmark defaults (n, temperature, top_p, max_tokens, stop, seed)"""
    data: Mapping[str, str] = field(default_factory=dict)
    """benchmark name -> local data path (default: the benchmark's own source)"""
    chunk_size: int = 32
    """items per engine call; generations are persisted after each chunk"""
    score_mode: str = "official"
    """official | strict (strict counts anti-copy-skipped generations as failures)"""

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit={self.limit}: must be >= 1 (or unset for all items)")
        if self.chunk_size < 1:
            raise ConfigError(f"chunk_size={self.chunk_size}: must be >= 1")
        if self.score_mode not in ("official", "strict"):
            raise ConfigError(f"score_mode={self.score_mode!r}: choose official or strict")


@dataclass(frozen=True, kw_only=True)
class BenchmarkResult:
    name: str
    summary: Mapping[str, float]
    settings: Mapping[str, Any]
    """the generation settings that produced the numbers"""
    n_items: int
    n_generated: int
    """samples generated in this run (the rest came from a previous run)"""
    out_dir: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EvalReport:
    results: tuple[BenchmarkResult, ...]
    out_dir: str
    wall_s: float


def resolve_benchmark(name: str, **opts: Any) -> Benchmark:
    """A benchmark by name (``get_benchmark``); ``opts`` go to its constructor."""
    from stepcode.eval.benchmarks import get_benchmark

    return get_benchmark(name, **opts)


def settings_for(bench: Benchmark, cfg: EvalConfig) -> GenerationParams:
    """Official defaults, then overrides, then greedy."""
    values = dict(bench.default_params)
    values.update(cfg.overrides)
    params = GenerationParams.from_mapping(values)
    return params.greedy() if cfg.greedy else params


def read_generations(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Records already on disk by ``(item_id, sample_idx)``; a torn last line is dropped."""
    done: dict[tuple[str, int], dict[str, Any]] = {}
    if not path.exists():
        return done
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i >= len(lines) - 2:  # torn tail of a killed run
                log.warning("%s: dropping a torn last line (%d chars)", path, len(line))
                continue
            raise DataError(f"{path}:{i + 1}: not JSON; delete the file to regenerate") from None
        done[(rec["item_id"], int(rec["sample_idx"]))] = rec
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
            raise ConfigError(
                f"{bench_dir} holds generations made with {old}, this run asks for {settings}: "
                "use another --out directory (or delete that one)"
            )
    else:
        write_json(path, settings)


def generate_missing(
    engine: Engine,
    bench: Benchmark,
    items: Sequence[EvalItem],
    params: GenerationParams,
    path: Path,
    *,
    chunk_size: int = 32,
    progress: ProgressFn | None = None,
) -> tuple[dict[tuple[str, int], dict[str, Any]], int]:
    """Generate every ``(item, sample)`` not already in ``path``; returns (all records, new count)."""
    _repair_tail(path)
    done = read_generations(path)
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
        sub = GenerationParams(**{**asdict(params), "n": k})
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
    settings = {**asdict(params), "stop": list(params.stop), "greedy": cfg.greedy,
                "prompt_style": getattr(bench, "prompt_style", "raw")}  # fmt: skip
    _check_settings(bench_dir, settings)
    recs, n_new = generate_missing(
        engine, bench, items, params, bench_dir / "generations.jsonl",
        chunk_size=cfg.chunk_size, progress=progress,
    )  # fmt: skip
    gens = {it.item_id: [recs[(it.item_id, s)]["generation"] for s in range(params.n)]
            for it in items}  # fmt: skip
    report = bench.score(items, gens, mode=cfg.score_mode)  # type: ignore[arg-type]
    rows = []
    for s in report.samples:
        rec = recs.get((s.item_id, s.sample_idx), {})
        verdict = "skipped" if s.skipped else ("correct" if s.correct else "wrong")
        rows.append({"item_id": s.item_id, "sample_idx": s.sample_idx,
                     "prompt": rec.get("prompt"), "generation": s.generation,
                     "extracted": s.extracted, "verdict": verdict, "reason": s.reason,
                     "finish_reason": rec.get("finish_reason")})  # fmt: skip
    write_jsonl(bench_dir / "samples.jsonl", rows)
    result = BenchmarkResult(
        name=bench.name, summary=dict(report.summary), settings=settings, n_items=len(items),
        n_generated=n_new, out_dir=str(bench_dir), notes=tuple(report.notes),
    )  # fmt: skip
    write_json(bench_dir / "summary.json", _result_json(result, cfg))
    return result


def _result_json(r: BenchmarkResult, cfg: EvalConfig) -> dict[str, Any]:
    return {"benchmark": r.name, "score_mode": cfg.score_mode, "n_items": r.n_items,
            "settings": dict(r.settings), **dict(r.summary), "notes": list(r.notes)}  # fmt: skip


def evaluate(
    engine: Engine,
    benchmarks: Sequence[str | Benchmark],
    cfg: EvalConfig = EvalConfig(),
    out_dir: str | Path = "eval_out",
    *,
    progress: ProgressFn | None = None,
    model_name: str | None = None,
) -> EvalReport:
    """Run every benchmark; writes ``OUT/summary.json`` and (when available) the HTML report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    benches = [resolve_benchmark(b) if isinstance(b, str) else b for b in benchmarks]
    t0 = time.perf_counter()
    results = tuple(run_benchmark(engine, b, cfg, out, progress) for b in benches)
    report = EvalReport(results=results, out_dir=str(out), wall_s=time.perf_counter() - t0)
    write_json(out / "summary.json", {
        "model": model_name, "score_mode": cfg.score_mode, "wall_s": round(report.wall_s, 3),
        "benchmarks": {r.name: _result_json(r, cfg) for r in results},
    })  # fmt: skip
    _write_html_report(out)
    return report


def _write_html_report(out: Path) -> None:
    try:
        from stepcode.eval import report as report_mod
    except ImportError:
        return
    writer = getattr(report_mod, "write_report", None)
    if writer is None:
        return
    try:
        writer(out)
    except Exception as e:  # the report is a convenience; the numbers are already on disk
        log.warning("HTML report failed: %s", e)
