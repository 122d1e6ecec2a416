"""The ``stepcode`` command: a thin typer app over the library.

Each stage's commands live in their own module here (``execution.py``, ``data.py``, ``eval.py``,
``train.py``) and are registered below. Exit codes: 0 ok, 2 bad operator input (one line on
stderr; traceback with ``--debug``), 1 unexpected.
"""

from __future__ import annotations

import logging
import sys

import typer

from stepcode.errors import ConfigError, DataError

app = typer.Typer(
    name="stepcode",
    help="Train and evaluate code LLMs on execution reasoning with execution-trace supervision.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    log_level: str = typer.Option("WARNING", "--log-level", help="DEBUG, INFO, WARNING, ERROR"),
    debug: bool = typer.Option(False, "--debug", help="show tracebacks for bad input"),
) -> None:
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    _state["debug"] = debug
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep our own bars readable
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _register() -> None:
    import importlib
    import pkgutil

    # every module of this package registers its own commands on ``app`` at import
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


def get_app() -> typer.Typer:
    """The app with every command registered (what tests hand to ``CliRunner``)."""
    _register()
    return app


def main() -> None:
    """Entry point of the console script; maps operator errors to exit code 2."""
    get_app()
    try:
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except (ConfigError, DataError) as e:
        if _state["debug"]:
            raise
        first = str(e).splitlines()
        typer.echo(f"error: {str(e) if len(first) < 8 else first[0]}", err=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except Exception as e:  # click usage errors and friends
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(2)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(130)
        raise
