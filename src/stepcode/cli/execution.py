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
_DEFAULT_LIMITS = Limits()


def _shown(text: object, limit: int | None = None) -> str:
    """Program-made text for the terminal: control characters escaped, never rich markup."""
    from rich.markup import escape

    from stepcode.display import printable

    return escape(printable(text, limit))


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
    max_steps: int = typer.Option(
        _DEFAULT_LIMITS.max_trace_steps,
        "--max-steps",
        help="states recorded before the trace is cut",
    ),
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
    if timeout <= 0 or memory_mb <= 0 or max_steps <= 0:
        raise fail("--timeout, --memory-mb and --max-steps must be positive")
    limits = Limits(timeout_s=timeout, memory_mb=memory_mb, max_trace_steps=max_steps)
    tr = trace_program(code, call, limits)
    hits = []
    if policy is not None:
        try:
            inst = instrument(code, policy)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
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
        "cut": _cut_reason(tr, max_steps),
        "max_steps": max_steps,
        "integrity": tr.result.integrity,
        "duration_s": round(tr.result.duration_s, 6),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    _render_trace(code, tr, out)


def _cut_reason(tr, max_steps: int) -> str | None:
    """Why the trace is a prefix of the run (None: it is whole)."""
    if not tr.truncated:
        return None
    status = tr.status.value
    if status == "timeout":
        return "the run hit its time limit (--timeout)"
    if status == "output_limit":
        return "the run hit its output cap"
    if len(tr.events) >= max_steps:
        return f"the step bound: {max_steps} states (--max-steps)"
    if not tr.events and status == "crash":
        return "the run ended before its trace came back"
    return "the trace's size bound (too much state to record)"


def _render_trace(code: str, tr, out: dict) -> None:
    status_style = "green" if out["status"] == "ok" else "red"
    console.print(
        f"status [{status_style}]{out['status']}[/]  return {_shown(out['return_value'])}"
    )
    if out["error"]:
        console.print(f"[red]{_shown(out['error'])}[/]")
    if out["integrity"] != "ok":
        console.print(
            f"[red]integrity: {_shown(out['integrity'])}[/] (the program tampered with the "
            "tracer: this trace is not ground truth)"
        )
    if tr.result.stdout:
        console.print("stdout:")
        console.print(_shown(tr.result.stdout, 2000))
    covered = set(out["coverage"])
    table = Table("line", "", "source", "next", title="coverage")
    for i, text in enumerate(code.splitlines(), 1):
        mark = "[green]●[/]" if i in covered else "[dim]○[/]"
        nxt = ",".join(map(str, out["next"].get(str(i), [])))
        table.add_row(str(i), mark, _shown(text), nxt)
    console.print(table)
    _render_states(tr)
    if out["anchors"]:
        console.print("anchors:")
        for a in out["anchors"]:
            console.print(f"  {_shown(a['name'])}: {_shown(a['value'], 200)}")
    cut = f"  [yellow]trace cut by {out['cut']}[/]" if out["cut"] else ""
    console.print(f"{len(tr.events)} states, {out['duration_s']} s{cut}")


_MAX_ROWS = 200


def _render_states(tr) -> None:
    """The merged REval states: line, frame, locals before the line, return / exception."""
    table = Table("#", "line", "func", "locals (before the line)", "return / raise", title="states")
    for i, e in enumerate(tr.events[:_MAX_ROWS]):
        shown = ", ".join(f"{k}={v.repr}" for k, v in e.locals.items())
        if len(shown) > 100:
            shown = shown[:97] + "..."
        exit_ = f"raise {e.exception}" if e.exception else (e.return_value or "")
        table.add_row(str(i), str(e.line), _shown(e.func), _shown(shown), _shown(exit_, 100))
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
        console.print(f"[yellow]note:[/] {_shown(note)}")
    if report.exposed:
        console.print("programs see (read-only): " + _shown(", ".join(report.exposed)))


def _gpu_line() -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed"
    if not torch.cuda.is_available():
        return "none (CPU only)"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return ", ".join(names)
