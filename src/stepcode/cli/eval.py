"""``stepcode eval CONFIG.yaml`` / ``eval run`` (a model), ``eval score`` (a generations file),
``eval report`` (HTML + plots)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from stepcode.cli import app, fail
from stepcode.display import printable

console = Console()


class _ConfigFirstGroup(TyperGroup):
    """``stepcode eval CONFIG.yaml ...`` is ``stepcode eval run CONFIG.yaml ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_ConfigFirstGroup,
    help="Evaluate models on CRUXEval, LiveCodeBench execution and REval. "
    "`stepcode eval CONFIG.yaml` runs a config (same as `eval run CONFIG.yaml`).",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


@eval_app.command("score")
def score(
    benchmark: str = typer.Option(
        ...,
        "--benchmark",
        help="a benchmark name as `eval run` takes it (cruxeval-o, lcb, "
        "reval-state, ...; reval = all four REval tasks)",
    ),  # fmt: skip
    generations: Path = typer.Option(
        ...,
        "--generations",
        help="generations in the official format (REval: a log file; reval: model_generations/)",
    ),
    data: str | None = typer.Option(
        None, "--data", help="local data file (default: the HF dataset); REval: the data directory"
    ),
    out: Path = typer.Option(..., "--out", help="output directory"),
    strict: bool = typer.Option(
        False, "--strict", help="count anti-copy-skipped generations as failures"
    ),
    limit: int | None = typer.Option(None, "--limit", help="first N items only"),
    mode: str | None = typer.Option(
        None, "--mode", help="deprecated: `--benchmark cruxeval --mode output` is cruxeval-o"
    ),
) -> None:
    """Score an existing generations file; writes OUT/summary.json and OUT/samples.jsonl."""
    from stepcode.errors import ConfigError, DataError
    from stepcode.eval.score import score_file

    try:
        report = score_file(benchmark, generations, data, out, "strict" if strict else "official",
                            limit, mode=mode)  # fmt: skip
    except (ConfigError, DataError) as e:
        raise fail(str(e)) from None
    table = Table("metric", "value", title=f"{report.benchmark} ({report.mode} scoring)")
    for k, v in report.summary.items():
        table.add_row(escape(k), f"{v:.2f}" if isinstance(v, float) else escape(printable(v)))
    console.print(table)
    from stepcode.eval.benchmarks.assert_scoring import official_only

    print_notes(console, report.notes, official_only(report.samples))


def print_notes(
    con: Console, notes: Sequence[str], flagged: Sequence[Any], shown: int = 10
) -> None:
    """Notes, then the generations that pass only under the official harness."""
    for note in notes:
        con.print(f"[dim]{escape(printable(note))}[/]")
    if flagged:
        con.print(f"[yellow]{len(flagged)} generation(s) pass only as code, not as values:[/]")
        for s in flagged[:shown]:
            con.print(f"  {escape(printable(s.item_id, 80))}#{s.sample_idx}: "
                      f"{escape(printable(s.extracted, 120))} ({escape(s.audit)})")  # fmt: skip


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
    console.print(f"wrote {escape(str(target))}")


def settings_line(settings: Mapping[str, Any]) -> str:
    s = settings
    desc = f"n={s['n']} T={s['temperature']} top_p={s['top_p']} max={s['max_tokens']}"
    if s.get("greedy"):
        desc += " (greedy)"
    if s.get("prompt_style") == "chat":
        desc += " chat"
    return f"{desc} prompts={s.get('prompts', '?')}"
