"""``stepcode verl export``: a stepcode dataset as the parquet files verl's ``main_ppo`` reads."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from stepcode.cli import app, fail

console = Console()
verl_app = typer.Typer(
    help="Train at scale with verl 0.9.1 (examples/verl/).", no_args_is_help=True
)
app.add_typer(verl_app, name="verl")


@verl_app.command("export")
def export(
    dataset: Path = typer.Argument(
        ..., help="a `stepcode data build` directory (rl.jsonl + eval.jsonl) or a run's data/ dir"
    ),
    out: Path = typer.Option(..., "--out", help="writes OUT/train.parquet and OUT/val.parquet"),
) -> None:
    """Write verl RL rows (chat prompt, the task itself in extra_info) for data.train_files."""
    from stepcode.errors import DataError
    from stepcode.rl.verl_data import export_dataset

    try:
        counts = export_dataset(dataset, out)
    except DataError as e:
        raise fail(str(e)) from None
    for name, n in counts.items():
        console.print(f"{n} rows -> {out / name}", soft_wrap=True)
