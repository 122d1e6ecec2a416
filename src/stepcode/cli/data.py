"""``stepcode data synth`` (print synthesized programs) and ``stepcode data build`` (a dataset)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepcode.cli import app, fail
from stepcode.errors import ConfigError, DataError, SandboxError

console = Console()
data_app = typer.Typer(
    help="Build training data: synthesized and real programs, traces, tasks.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


@data_app.command("synth")
def synth(
    level: int = typer.Option(1, "--level", help="difficulty level 1-6"),
    n: int = typer.Option(5, "-n", help="programs to print"),
    seed: int = typer.Option(0, "--seed"),
    size: str = typer.Option(
        "small", "--size", help="small (tiny-model ranges) | paper (ExecVerify's)"
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON Program per line"),
) -> None:
    """Print N verified programs of LEVEL with their input and output."""
    from stepcode.data.synth import LEVELS, synthesize_programs
    from stepcode.types import to_dict

    if level not in LEVELS:
        raise fail(f"--level {level}: choose one of {list(LEVELS)}")
    if size not in ("small", "paper"):
        raise fail(f"--size {size!r}: choose small or paper")
    if n < 1:
        raise fail(f"-n {n}: must be >= 1")
    try:
        programs = synthesize_programs(level, n, seed, size)  # type: ignore[arg-type]
    except SandboxError as e:
        raise fail(f"sandbox unavailable: {e}", code=1) from None
    for p in programs:
        if as_json:
            typer.echo(json.dumps(to_dict(p)))
            continue
        console.rule(f"{p.program_id}")
        console.print(p.code.rstrip(), markup=False, highlight=False)
        console.print(
            f"assert {p.entry_point}({p.input_args}) == {p.output}", markup=False, highlight=False
        )


@data_app.command("build")
def build(
    config: Path | None = typer.Argument(
        None, help="data build YAML (configs/data/*.yaml); default config if omitted"
    ),
    out: Path = typer.Option(..., "--out", help="output directory (re-run to resume)"),
    overrides: list[str] = typer.Option([], "--set", help="key.sub=value override (repeatable)"),
) -> None:
    """Build programs, traces and SFT / RL / eval tasks into OUT (JSONL + parquet + manifest)."""
    from stepcode.config import load_config
    from stepcode.data.build import build_dataset
    from stepcode.data.config import DataBuildConfig

    try:
        cfg = load_config(DataBuildConfig, config, overrides)
    except ConfigError as e:
        raise fail(str(e).replace("\n", " ")) from None
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bars:
        ids: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in ids:
                ids[stage] = bars.add_task(stage, total=max(total, 1))
            bars.update(ids[stage], completed=done, total=max(total, 1))

        try:
            manifest = build_dataset(cfg, out, progress=progress)
        except (ConfigError, DataError) as e:
            raise fail(str(e).replace("\n", " ")) from None
        except SandboxError as e:
            raise fail(f"sandbox unavailable: {e}", code=1) from None
    _print_summary(manifest, out)


def _print_summary(manifest: dict, out: Path) -> None:
    counts = manifest["counts"]
    stages = ("verified", "filtered", "traced", "tasks", "sft", "rl", "eval")
    table = Table(title=f"stepcode data build -> {out}")
    table.add_column("level")
    for s in stages:
        table.add_column(s, justify="right")
    for lv, c in counts["per_level"].items():
        table.add_row(lv, *(str(c.get(s, 0)) for s in stages))
    console.print(table)
    removed = ", ".join(f"{k}={v}" for k, v in counts["removed"].items()) or "none"
    console.print(f"removed: {removed}")
    for c in manifest["contamination"][:20]:
        console.print(
            f"  contaminated: {c['program_id']} ~ {c['benchmark']}:{c['item_id']} ({c['shared_ngrams']} shared n-grams)"
        )
    console.print(f"tasks: {json.dumps(counts['tasks_per_split'])}")
    timings = out / "timings.json"
    if timings.is_file():
        secs = json.loads(timings.read_text())
        console.print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in secs.items()))
