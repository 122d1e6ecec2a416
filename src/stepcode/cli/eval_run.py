"""``stepcode eval run``: generate with a model through a backend, score officially, resumably."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepcode.cli.eval import eval_app

console = Console(stderr=True)
out_console = Console()

ALIASES = {"reval": ("reval-coverage", "reval-state", "reval-path", "reval-output")}


def parse_sets(pairs: list[str]) -> dict[str, object]:
    """``key=value`` overrides; values parsed as YAML scalars/lists (``stop=[a, b]``, ``n=1``)."""
    import yaml

    from stepcode.errors import ConfigError

    out: dict[str, object] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {p!r}: expected key=value, e.g. --set temperature=0.8")
        out[key.strip()] = yaml.safe_load(value)
    return out


def expand_names(spec: str) -> list[str]:
    names: list[str] = []
    for n in (s.strip() for s in spec.split(",")):
        if n:
            names.extend(ALIASES.get(n, (n,)))
    return names


@eval_app.command("run")
def run(
    model: str = typer.Option(..., "--model", help="local dir / hub id (hf, vllm) or served name"),
    backend: str = typer.Option("hf", "--backend", help="hf | vllm | openai"),
    benchmarks: str = typer.Option(
        "cruxeval-o,cruxeval-i",
        "--benchmarks",
        help="comma list: cruxeval-o,cruxeval-i,lcb,reval,"
        "cruxeval-o-aligned,cruxeval-i-aligned (and -cot variants),humaneval,mbpp",
    ),
    out: Path = typer.Option(..., "--out", help="output directory (rerun the same to resume)"),
    limit: int | None = typer.Option(None, "--limit", help="first N items per benchmark"),
    sets: list[str] = typer.Option([], "--set", help="generation override key=value (repeatable)"),
    greedy: bool = typer.Option(False, "--greedy", help="greedy pass@1: n=1, temperature=0"),
    data: list[str] = typer.Option([], "--data", help="BENCH=PATH local data file (repeatable)"),
    base_url: str | None = typer.Option(None, "--base-url", help="openai backend: server URL"),
    concurrency: int = typer.Option(8, "--concurrency", help="openai backend: parallel requests"),
    batch_size: int = typer.Option(16, "--batch-size", help="hf backend: generation batch size"),
    chunk_size: int = typer.Option(32, "--chunk-size", help="items per generate call / save"),
    strict: bool = typer.Option(False, "--strict", help="count anti-copy skips as failures"),
    prompt_style: str | None = typer.Option(
        None, "--prompt-style", help="raw | chat (default: the benchmark's official style)"
    ),
) -> None:
    """Evaluate MODEL on benchmarks with the official settings; writes OUT/summary.json."""
    from stepcode.cli import fail
    from stepcode.errors import ConfigError, StepcodeError
    from stepcode.eval.harness import EvalConfig, evaluate, resolve_benchmark
    from stepcode.rollout.engines import make_engine

    try:
        paths = dict(_split_data(d) for d in data)
        cfg = EvalConfig(limit=limit, greedy=greedy, overrides=parse_sets(sets), data=paths,
                         chunk_size=chunk_size, score_mode="strict" if strict else "official")  # fmt: skip
        if prompt_style not in (None, "raw", "chat"):
            raise ConfigError(f"--prompt-style {prompt_style!r}: choose raw or chat")
        opts = {"prompt_style": prompt_style} if prompt_style else {}
        benches = [resolve_benchmark(n, **opts) for n in expand_names(benchmarks)]
        if backend == "openai":
            engine = make_engine("openai", model, base_url=base_url, concurrency=concurrency)
        elif backend == "hf":
            engine = make_engine("hf", model, batch_size=batch_size)
        else:
            engine = make_engine(backend, model)
        with _progress() as prog:
            tasks: dict[str, int] = {}

            def on_progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = prog.add_task(name, total=total)
                prog.update(tasks[name], completed=done, total=total)

            report = evaluate(engine, benches, cfg, out, progress=on_progress, model_name=model)
    except StepcodeError as e:
        raise fail(str(e)) from None
    _print_table(report)


def _split_data(spec: str) -> tuple[str, str]:
    from stepcode.errors import ConfigError

    name, sep, path = spec.partition("=")
    if not sep:
        raise ConfigError(f"--data {spec!r}: expected BENCH=PATH, e.g. cruxeval-o=cruxeval.jsonl")
    return name.strip(), path.strip()


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)  # fmt: skip


def _print_table(report: object) -> None:
    table = Table("benchmark", "metric", "value", "settings", title="stepcode eval run")
    for r in report.results:  # type: ignore[attr-defined]
        s = r.settings
        desc = f"n={s['n']} T={s['temperature']} top_p={s['top_p']} max={s['max_tokens']}"
        if s.get("greedy"):
            desc += " (greedy)"
        if s.get("prompt_style") == "chat":
            desc += " chat"
        for i, (k, v) in enumerate(r.summary.items()):
            table.add_row(r.name if i == 0 else "", k,
                          f"{v:.2f}" if isinstance(v, float) else str(v), desc if i == 0 else "")  # fmt: skip
    out_console.print(table)
    out_console.print(f"summary: {Path(report.out_dir) / 'summary.json'}")  # type: ignore[attr-defined]
