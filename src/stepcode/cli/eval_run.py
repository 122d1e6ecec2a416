"""``stepcode eval run [CONFIG.yaml]`` (also ``stepcode eval CONFIG.yaml``): generate with a model,
score officially, resumably. The flags are shorthands for config keys (``--model`` is
``model.path``, ``--greedy`` is ``sampling.greedy`` ...); ``--set key=value`` sets any key, and a
bare sampling key (``--set n=2``) means ``sampling.n``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepcode.cli import fail
from stepcode.cli.eval import eval_app, print_notes, settings_line
from stepcode.display import printable

console = Console(stderr=True)
out_console = Console()


def flag_overrides(**flags: object) -> list[str]:
    """``--model m --greedy ...`` as config overrides (``model.path="m"``, ``sampling.greedy=true``)."""
    keys = {"model": "model.path", "backend": "model.backend", "base_url": "model.base_url",
            "concurrency": "model.concurrency", "batch_size": "model.batch_size",
            "limit": "limit", "chunk_size": "chunk_size", "prompt_style": "prompt_style",
            "prompts": "prompts", "out": "out"}  # fmt: skip
    sets = [f"{keys[k]}={json.dumps(str(v) if isinstance(v, Path) else v)}"
            for k, v in flags.items() if k in keys and v is not None]  # fmt: skip
    if flags.get("benchmarks"):
        names = [n.strip() for n in str(flags["benchmarks"]).split(",") if n.strip()]
        sets.append(f"benchmarks={json.dumps(names)}")
    if flags.get("greedy"):
        sets.append("sampling.greedy=true")
    if flags.get("strict"):
        sets.append("score_mode=strict")
    for kind, specs in (("data", flags.get("data") or []), ("harness", flags.get("harness") or [])):
        for spec in specs:  # type: ignore[union-attr]
            name, sep, path = str(spec).partition("=")
            if not sep or not name.strip():
                raise fail(f"--{kind} {spec!r}: expected NAME=PATH, e.g. cruxeval-o=cruxeval.jsonl")
            sets.append(f"{kind}.{name.strip()}={json.dumps(path.strip())}")
    return sets


def set_overrides(pairs: list[str]) -> list[str]:
    """``--set key=value``; a bare sampling key (``n=2``, ``temperature=0.8``) is ``sampling.<key>``."""
    from stepcode.eval.config import SAMPLING_KEYS

    out = []
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise fail(f"--set {p!r}: expected key=value, e.g. --set sampling.temperature=0.8")
        key = key.strip()
        out.append(f"sampling.{key}={value}" if key in SAMPLING_KEYS else f"{key}={value}")
    return out


@eval_app.command("run")
def run(
    config: Path | None = typer.Argument(None, help="eval config YAML (configs/eval/*.yaml)"),
    sets: list[str] = typer.Option([], "--set", help="config override key=value (repeatable)"),
    out: Path | None = typer.Option(None, "--out", help="output directory (rerun to resume)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the resolved config only"),
    model: str | None = typer.Option(
        None, "--model", help="model.path: local dir / hub id / served name"
    ),  # fmt: skip
    backend: str | None = typer.Option(None, "--backend", help="model.backend: hf | vllm | openai"),
    benchmarks: str | None = typer.Option(
        None,
        "--benchmarks",
        help="comma list: cruxeval-o,cruxeval-i,lcb,reval,"
        "cruxeval-o-aligned,cruxeval-i-aligned (and -cot variants)",
    ),  # fmt: skip
    limit: int | None = typer.Option(None, "--limit", help="first N items per benchmark"),
    greedy: bool = typer.Option(False, "--greedy", help="greedy pass@1: n=1, temperature=0"),
    data: list[str] = typer.Option([], "--data", help="BENCH=PATH local data file (repeatable)"),
    prompts: str | None = typer.Option(None, "--prompts", help="stepcode | official"),
    harness: list[str] = typer.Option(
        [], "--harness", help="FAMILY=PATH your copy of the official harness (cruxeval, lcb)"
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="openai backend: server URL"),
    concurrency: int | None = typer.Option(None, "--concurrency", help="openai: parallel requests"),
    batch_size: int | None = typer.Option(None, "--batch-size", help="hf: generation batch size"),
    chunk_size: int | None = typer.Option(
        None, "--chunk-size", help="items per generate call / save"
    ),  # fmt: skip
    strict: bool = typer.Option(False, "--strict", help="count anti-copy skips as failures"),
    prompt_style: str | None = typer.Option(
        None, "--prompt-style", help="raw | chat (default: the benchmark's official style)"
    ),
) -> None:
    """Evaluate a model on benchmarks with the official settings; writes OUT/summary.json."""
    from stepcode.config import config_to_dict, load_config
    from stepcode.errors import StepcodeError
    from stepcode.eval.config import EvalConfig
    from stepcode.eval.harness import run_eval

    flags = flag_overrides(model=model, backend=backend, benchmarks=benchmarks, limit=limit,
                           greedy=greedy, data=data, prompts=prompts, harness=harness,
                           base_url=base_url, concurrency=concurrency, batch_size=batch_size,
                           chunk_size=chunk_size, strict=strict, prompt_style=prompt_style, out=out)  # fmt: skip
    try:
        cfg = load_config(EvalConfig, config, [*flags, *set_overrides(sets)])
        if dry_run:
            out_console.print(escape(yaml.safe_dump(config_to_dict(cfg), sort_keys=False)))
            return
        with _progress() as prog:
            tasks: dict[str, int] = {}

            def on_progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = prog.add_task(name, total=total)
                prog.update(tasks[name], completed=done, total=total)

            report = run_eval(cfg, progress=on_progress)
    except StepcodeError as e:
        raise fail(str(e)) from None
    _print_table(report)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)  # fmt: skip


def _print_table(report: object) -> None:
    table = Table("benchmark", "metric", "value", "settings", title="stepcode eval run")
    for r in report.results:  # type: ignore[attr-defined]
        for i, (k, v) in enumerate(r.summary.items()):
            table.add_row(r.name if i == 0 else "", escape(k),
                          f"{v:.2f}" if isinstance(v, float) else escape(str(v)),
                          escape(printable(settings_line(r.settings))) if i == 0 else "")  # fmt: skip
    out_console.print(table)
    for r in report.results:  # type: ignore[attr-defined]
        print_notes(out_console, (), r.official_only)
    out_console.print(f"summary: {escape(str(Path(report.out_dir) / 'summary.json'))}")  # type: ignore[attr-defined]
