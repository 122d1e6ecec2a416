"""``stepcode trace``, ``stepcode instrument`` and ``stepcode doctor``."""

from __future__ import annotations

import ast
import json
import platform
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stepcode.cli import app, fail
from stepcode.errors import ConfigError
from stepcode.types import Limits

console = Console()


def _read_program(path: Path) -> str:
    if not path.is_file():
        raise fail(f"no such file: {path}")
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise fail(f"cannot read {path}: {e}") from None
    return code


def _parse_policy(text: str | None):
    from stepcode.execution import AnchorPolicy

    if text is None:
        return None
    try:
        return AnchorPolicy.parse(text)
    except ConfigError as e:
        raise fail(str(e)) from None


@app.command()
def trace(
    program: Path = typer.Argument(..., help="Python file to run"),
    call: str | None = typer.Option(None, "--call", help='expression to evaluate, e.g. "f(3)"'),
    anchors: str | None = typer.Option(None, "--anchors", help="none | every | first_k[:N]"),
    timeout: float = typer.Option(3.0, "--timeout", help="wall-clock limit in seconds"),
    memory_mb: int = typer.Option(512, "--memory-mb", help="address-space cap"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Run PROGRAM in the sandbox under the line tracer (and its anchors with --anchors)."""
    from stepcode.execution import coverage, instrument, next_lines, run_instrumented, trace_program

    code = _read_program(program)
    if call is not None:
        try:
            ast.parse(call, mode="eval")
        except SyntaxError as e:
            raise fail(f"--call {call!r} is not an expression: {e.msg}") from None
    policy = _parse_policy(anchors)
    limits = Limits(timeout_s=timeout, memory_mb=memory_mb)
    tr = trace_program(code, call, limits)
    hits = []
    if policy is not None:
        try:
            inst = instrument(code, policy)
        except SyntaxError:
            inst = None
        if inst is not None:
            run = run_instrumented(inst, call, limits)
            hits = [{"name": h.name, "value": h.value} for h in run.anchors]
    out = {
        "status": tr.status.value,
        "return_value": tr.return_value,
        "error": tr.result.error,
        "stdout": tr.result.stdout,
        "anchors": hits,
        "coverage": sorted(coverage(tr)),
        "next": {str(k): sorted(v) for k, v in sorted(next_lines(tr).items())},
        "truncated": tr.truncated,
        "duration_s": round(tr.result.duration_s, 6),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    _render_trace(code, tr, out)


def _render_trace(code: str, tr, out: dict) -> None:
    from rich.markup import escape  # program text and values are never rich markup

    status_style = "green" if out["status"] == "ok" else "red"
    ret = escape(str(out["return_value"]))
    console.print(f"status [{status_style}]{out['status']}[/]  return {ret}")
    if out["error"]:
        console.print(f"[red]{escape(out['error'])}[/]")
    covered = set(out["coverage"])
    table = Table("line", "", "source", "next", title="coverage")
    for i, text in enumerate(code.splitlines(), 1):
        mark = "[green]●[/]" if i in covered else "[dim]○[/]"
        nxt = ",".join(map(str, out["next"].get(str(i), [])))
        table.add_row(str(i), mark, escape(text), nxt)
    console.print(table)
    _render_states(tr)
    if out["anchors"]:
        console.print("anchors:")
        for a in out["anchors"]:
            console.print(f"  {escape(a['name'])}: {escape(a['value'])}")
    console.print(f"{len(tr.events)} states, truncated={out['truncated']}, {out['duration_s']} s")


_MAX_ROWS = 200


def _render_states(tr) -> None:
    """The merged REval states: line, frame, locals before the line, return / exception."""
    from rich.markup import escape

    table = Table("#", "line", "func", "locals (before the line)", "return / raise", title="states")
    for i, e in enumerate(tr.events[:_MAX_ROWS]):
        shown = ", ".join(f"{k}={v.repr}" for k, v in e.locals.items())
        if len(shown) > 100:
            shown = shown[:97] + "..."
        exit_ = f"raise {e.exception}" if e.exception else (e.return_value or "")
        table.add_row(str(i), str(e.line), escape(e.func), escape(shown), escape(exit_))
    console.print(table)
    if len(tr.events) > _MAX_ROWS:
        console.print(f"[dim]... {len(tr.events) - _MAX_ROWS} more states (use --json)[/]")


@app.command("instrument")
def instrument_cmd(
    program: Path = typer.Argument(..., help="Python file to instrument"),
    anchors: str = typer.Option("first_k", "--anchors", help="none | every | first_k[:N]"),
    runtime: bool = typer.Option(False, "--runtime", help="show the runtime rendering"),
) -> None:
    """Print PROGRAM with its trace anchors inserted."""
    from stepcode.execution import instrument

    code = _read_program(program)
    try:
        inst = instrument(code, _parse_policy(anchors))
    except SyntaxError as e:
        raise fail(f"{program} does not parse: {e.msg} (line {e.lineno})") from None
    typer.echo(inst.runtime_source if runtime else inst.source, nl=False)


@app.command()
def doctor() -> None:
    """Versions, CPU/GPU, and which sandbox isolation layers are active here."""
    import os

    import stepcode
    from stepcode.execution import detect_isolation

    table = Table("component", "status", title="stepcode doctor")
    table.add_row("stepcode", stepcode.__version__)
    table.add_row("python", platform.python_version())
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("torch", "transformers", "tokenizers", "datasets", "vllm", "verl", "peft", "trl"):
        try:  # metadata only: importing vllm/verl just to read a version takes many seconds
            found = version(dist)
        except PackageNotFoundError:
            found = "[dim]not installed[/]"
        table.add_row(dist, found)
    table.add_row("cpu cores", str(os.cpu_count()))
    table.add_row("gpu", _gpu_line())
    report = detect_isolation()
    for layer, on in report.layers.items():
        table.add_row(f"sandbox: {layer}", "[green]active[/]" if on else "[red]off[/]")
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")


def _gpu_line() -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed"
    if not torch.cuda.is_available():
        return "none (CPU only)"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return ", ".join(names)
