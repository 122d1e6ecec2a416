"""``stepcode serve``: an OpenAI-compatible HTTP endpoint over a local HF model (for tests/tools)."""

from __future__ import annotations

import typer

from stepcode.cli import app


@app.command("serve")
def serve(
    model: str = typer.Option(..., "--model", help="local model dir or hub id"),
    port: int = typer.Option(8000, "--port", help="TCP port (0 = any free port)"),
    host: str = typer.Option("127.0.0.1", "--host", help="interface to bind"),
    name: str | None = typer.Option(None, "--name", help="model name in /v1/models"),
    batch_size: int = typer.Option(16, "--batch-size", help="HF generation batch size"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
) -> None:
    """Serve MODEL at http://HOST:PORT/v1 (/completions, /chat/completions, /models)."""
    from stepcode.errors import StepcodeError
    from stepcode.eval.server import start_server
    from stepcode.rollout.engines import HFEngine

    try:
        engine = HFEngine.from_pretrained(model, device=device, batch_size=batch_size)
        handle = start_server(
            engine, host=host, port=port, model_name=name or model, background=False
        )
    except StepcodeError as e:
        raise _fail(str(e)) from None
    typer.echo(f"serving {name or model} at {handle.base_url}", err=True)
    try:
        handle.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        handle.close()


def _fail(msg: str) -> typer.Exit:
    from stepcode.cli import fail

    return fail(msg)
