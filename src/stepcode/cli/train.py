"""``stepcode train [CONFIG.yaml]`` (no config = the embedded default) and ``stepcode config show``."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepcode.cli import app
from stepcode.config import config_to_dict, load_config

console = Console()
config_app = typer.Typer(
    help="Show resolved configs without running anything.", no_args_is_help=True
)
app.add_typer(config_app, name="config")


def _load(config: Path | None, overrides: list[str], out: Path | None):
    from stepcode.cli import fail
    from stepcode.errors import ConfigError
    from stepcode.rl.config import TrainConfig

    sets = list(overrides) + ([f"run.out={out}"] if out is not None else [])
    try:
        return load_config(TrainConfig, config, sets)
    except ConfigError as e:
        raise fail(str(e)) from None


@app.command()
def train(
    config: Path | None = typer.Argument(
        None, help="training YAML (default: the embedded tiny model)"
    ),
    overrides: list[str] = typer.Option([], "--set", help="key.sub=value override, repeatable"),
    out: Path | None = typer.Option(None, "--out", help="run directory (default: run.out)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and print the config only"),
    force: bool = typer.Option(
        False, "--force", help="resume a run dir even if settings of finished stages changed"
    ),
) -> None:
    """Synthesize data, warm up with SFT, train with Bi-Level GRPO, evaluate before/after."""
    from stepcode.rl.evaluate import format_table
    from stepcode.rl.train import train as run_training

    cfg = _load(config, overrides, out)
    if dry_run:
        console.print(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
        return
    console.print(f"run dir: [bold]{cfg.run.out}[/] (resumes if a checkpoint is there)")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console,
        disable=not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("training", total=cfg.total_steps, info="")

        last = {"phase": ""}

        def progress(phase: str, step: int, total: int, metrics: dict[str, float]) -> None:
            key = "loss/sft" if phase == "sft" else "reward/outcome"
            info = f"{key}={metrics[key]:.3f}" if key in metrics else ""
            bar.update(task, completed=step, total=total, description=phase, info=info)
            if phase != last["phase"] and not console.is_terminal:  # logs get one line per stage
                console.print(f"{phase} ({total})")
            last["phase"] = phase

        summary = run_training(cfg, progress=progress, force=force)
    header, rows = format_table(summary.before, summary.after, summary.warmup, joined=True)
    table = Table(*header, title="held-out output prediction (greedy)")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(
        f"{summary.steps} steps in {summary.seconds:.0f} s; report: {summary.run_dir / 'report.html'}"
    )


@config_app.command("show")
def show(
    kind: str = typer.Argument(..., help="train | eval | data"),
    config: Path | None = typer.Argument(None, help="YAML file"),
    overrides: list[str] = typer.Option([], "--set", help="key.sub=value override"),
) -> None:
    """Print the resolved config (defaults + file + overrides)."""
    from stepcode.cli import fail
    from stepcode.data.config import DataBuildConfig
    from stepcode.errors import ConfigError
    from stepcode.eval.config import EvalConfig
    from stepcode.rl.config import TrainConfig

    kinds = {"train": TrainConfig, "eval": EvalConfig, "data": DataBuildConfig}
    if kind not in kinds:
        raise fail(f"unknown config kind {kind!r}: use {', '.join(kinds)}")
    try:
        cfg = load_config(kinds[kind], config, overrides)
    except ConfigError as e:
        raise fail(str(e)) from None
    console.print(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
