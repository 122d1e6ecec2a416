"""A small OpenAI-compatible HTTP server over any ``Engine`` (stdlib ``http.server``).

Routes: ``GET /v1/models``, ``POST /v1/completions`` (``prompt`` a string or a list of strings),
``POST /v1/chat/completions`` (``messages``). Request fields honoured: ``n``, ``temperature``,
``top_p``, ``max_tokens``, ``stop`` (string or list), ``seed``. Responses carry ``choices`` (with
``index``, ``text`` or ``message``, ``finish_reason``) and ``usage``. Bad requests get a 400 with an
OpenAI-style ``{"error": {...}}`` body.

Requests are handled on threads but the engine is called under a lock (one generation at a time):
it is meant for tests and for trying a local checkpoint with OpenAI tooling, not for production
serving (use vLLM for that). No streaming, no logprobs, no authentication.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stepcode.errors import ConfigError
from stepcode.rollout.engines import Engine
from stepcode.rollout.params import SamplingParams

log = logging.getLogger(__name__)

_FIELDS = ("n", "temperature", "top_p", "max_tokens", "stop", "seed")


def params_from_request(body: dict[str, Any]) -> SamplingParams:
    """``SamplingParams`` from an OpenAI request body (missing fields: OpenAI's defaults)."""
    values = {k: body[k] for k in _FIELDS if body.get(k) is not None}
    values.setdefault("temperature", 1.0)
    values.setdefault("max_tokens", 16)
    return SamplingParams.from_mapping(values)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def _send(self, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.model_name,
                             "object": "model", "owned_by": "stepcode"}]})  # fmt: skip
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        route = self.path.rstrip("/")
        if route not in ("/v1/completions", "/v1/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            params = params_from_request(body)
            chat = route.endswith("chat/completions")
            prompts = self._prompts(body, chat)
        except (ValueError, ConfigError) as e:
            self._error(400, str(e))
            return
        with self.server.lock:
            results = self.server.engine.generate(prompts, params)
        self._send(200, self._response(results, chat))

    @staticmethod
    def _prompts(body: dict[str, Any], chat: bool) -> list[Any]:
        if chat:
            msgs = body.get("messages")
            if not isinstance(msgs, list) or not msgs:
                raise ValueError("'messages' must be a non-empty list")
            return [msgs]
        prompt = body.get("prompt")
        if isinstance(prompt, str):
            return [prompt]
        if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
            return prompt
        raise ValueError("'prompt' must be a string or a list of strings")

    def _response(self, results: list[list[Any]], chat: bool) -> dict[str, Any]:
        choices = []
        for comps in results:
            for c in comps:
                ch: dict[str, Any] = {"index": len(choices), "finish_reason": c.finish_reason}
                if chat:
                    ch["message"] = {"role": "assistant", "content": c.text}
                else:
                    ch.update(text=c.text, logprobs=None)
                choices.append(ch)
        n_tok = sum(c.n_tokens for comps in results for c in comps)
        return {
            "id": f"cmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": self.server.model_name,
            "choices": choices,
            "usage": {"prompt_tokens": 0, "completion_tokens": n_tok, "total_tokens": n_tok},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    engine: Engine
    model_name: str
    lock: threading.Lock


@dataclass
class ServerHandle:
    """A running server; ``close()`` (or leaving the ``with`` block) stops it."""

    server: _Server
    thread: threading.Thread | None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.server.server_address[0]}:{self.port}/v1"

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=10)
        self.server.server_close()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_server(
    engine: Engine,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    model_name: str = "stepcode",
    background: bool = True,
) -> ServerHandle:
    """Bind ``host:port`` (0 = a free port) and serve ``engine``; in a thread when ``background``."""
    try:
        server = _Server((host, port), _Handler)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e}") from None
    server.engine, server.model_name, server.lock = engine, model_name, threading.Lock()
    thread = None
    if background:
        thread = threading.Thread(target=server.serve_forever, name="stepcode-serve", daemon=True)
        thread.start()
    log.info("serving %s on http://%s:%d/v1", model_name, host, server.server_address[1])
    return ServerHandle(server=server, thread=thread)
