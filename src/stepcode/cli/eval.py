"""``stepcode eval score`` (official generations files) and ``stepcode eval run`` (a model)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stepcode.cli import app, fail

console = Console()
eval_app = typer.Typer(
    help="Evaluate models on CRUXEval, LiveCodeBench execution and REval.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")


@eval_app.command("score")
def score(
    benchmark: str = typer.Option(
        ..., "--benchmark", help="cruxeval | lcb | reval | humaneval | mbpp"
    ),
    mode: str = typer.Option(
        "output",
        "--mode",
        help="cruxeval: output | input; reval: coverage | state | path | output | all",
    ),
    generations: Path = typer.Option(
        ...,
        "--generations",
        help="generations in the official format (REval: a log file, or model_generations/ with --mode all)",
    ),
    data: str | None = typer.Option(
        None, "--data", help="local data file (default: the HF dataset); REval: the data directory"
    ),
    out: Path = typer.Option(..., "--out", help="output directory"),
    strict: bool = typer.Option(
        False, "--strict", help="count anti-copy-skipped generations as failures"
    ),
    limit: int | None = typer.Option(None, "--limit", help="first N items only"),
) -> None:
    """Score an existing generations file; writes OUT/summary.json and OUT/samples.jsonl."""
    from stepcode.errors import ConfigError, DataError
    from stepcode.eval.score import score_file

    try:
        report = score_file(
            benchmark, mode, generations, data, out, "strict" if strict else "official", limit
        )
    except (ConfigError, DataError) as e:
        raise fail(str(e)) from None
    table = Table("metric", "value", title=f"{report.benchmark} ({report.mode} scoring)")
    for k, v in report.summary.items():
        table.add_row(k, f"{v:.2f}" if isinstance(v, float) else str(v))
    console.print(table)
    for note in report.notes:
        console.print(f"[dim]{note}[/]")


@eval_app.command("report")
def report(
    runs: list[Path] = typer.Argument(
        ..., help="run directories written by `eval score` / `eval run`"
    ),
    out: Path = typer.Option(..., "--out", help="output directory for report.html and PNGs"),
) -> None:
    """Write OUT/report.html (self-contained, plots embedded) and the PNG plots."""
    from stepcode.errors import DataError
    from stepcode.eval.report import write_report

    try:
        target = write_report(runs, out)
    except DataError as e:
        raise fail(str(e)) from None
    console.print(f"wrote {target}")
