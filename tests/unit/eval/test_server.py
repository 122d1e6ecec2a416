"""OpenAIEngine end to end against the real loopback server serving a tiny HF model; retries."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stepcode.errors import StepcodeError
from stepcode.eval.server import start_server
from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rollout.engines import GenerationParams, HFEngine, OpenAIEngine, RetryPolicy

CORPUS = ["def f(x):\n    y = x + 1\n    return y * 2\nassert f(3) == 8\n"] * 30
PROMPTS = ["def f(x):\n    return x", "assert f("]


@pytest.fixture(scope="module")
def hf():
    tok = train_tokenizer(CORPUS, vocab_size=320)
    model = build_tiny_model(tok, seed=2, max_positions=256).eval()
    return HFEngine(model, tok, batch_size=8)


@pytest.fixture(scope="module")
def served(hf):
    with start_server(hf, model_name="tiny") as handle:
        yield handle


def test_openai_backend_matches_hf_directly(hf, served):
    oa = OpenAIEngine(model="tiny", base_url=served.base_url, concurrency=2)
    p = GenerationParams(max_tokens=10)
    via_http = oa.generate(PROMPTS, p)
    direct = hf.generate(PROMPTS, p)
    assert [[c.text for c in cs] for cs in via_http] == [[c.text for c in cs] for cs in direct]
    assert [cs[0].finish_reason for cs in via_http] == [cs[0].finish_reason for cs in direct]


def test_chat_style_and_n_samples(hf, served):
    oa = OpenAIEngine(model="tiny", base_url=served.base_url)
    msgs = [{"role": "user", "content": "def f(x): return x"}]
    p = GenerationParams(max_tokens=8)
    assert [c.text for c in oa.generate([msgs], p)[0]] == [
        c.text for c in hf.generate([msgs], p)[0]
    ]
    many = oa.generate(PROMPTS, GenerationParams(n=3, temperature=1.0, max_tokens=6, seed=1))
    assert [len(cs) for cs in many] == [3, 3]


def test_models_route_and_bad_request(served):
    with urllib.request.urlopen(served.base_url + "/models", timeout=30) as r:
        assert json.load(r)["data"][0]["id"] == "tiny"
    req = urllib.request.Request(
        served.base_url + "/completions", data=b'{"prompt": 3}', method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with pytest.raises(urllib.request.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400 and "prompt" in json.load(e.value)["error"]["message"]


class _Flaky(BaseHTTPRequestHandler):
    """Answers the first ``fails`` POSTs with the given statuses, then a valid completion."""

    statuses: list[int] = []
    seen: list[int] = []
    lock = threading.Lock()

    def log_message(self, *a):  # quiet
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.seen.append(status)
        body = {"error": {"message": "busy"}} if status != 200 else {
            "id": "x", "object": "text_completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "text": "42 [/ANSWER] tail", "finish_reason": "stop",
                         "logprobs": None}],
        }  # fmt: skip
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def flaky():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Flaky.seen = []
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_retries_429_and_5xx_then_succeeds(flaky):
    _, url = flaky
    _Flaky.statuses = [429, 500, 503]
    oa = OpenAIEngine(model="m", base_url=url, retry=RetryPolicy(max_retries=4, backoff_s=0.01))
    out = oa.generate(["p"], GenerationParams(stop=("[/ANSWER]",)))
    assert out[0][0].text == "42 " and out[0][0].finish_reason == "stop"
    assert _Flaky.seen == [429, 500, 503, 200]


def test_gives_up_after_max_retries_and_does_not_retry_400(flaky):
    _, url = flaky
    _Flaky.statuses = [500] * 10
    oa = OpenAIEngine(model="m", base_url=url, retry=RetryPolicy(max_retries=2, backoff_s=0.01))
    with pytest.raises(StepcodeError, match="after 3 attempt"):
        oa.generate(["p"], GenerationParams())
    _Flaky.statuses, _Flaky.seen = [400], []
    with pytest.raises(StepcodeError, match="after 1 attempt"):
        oa.generate(["p"], GenerationParams())
    assert _Flaky.seen == [400]


def test_timeout_is_retried():
    class Slow(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):  # noqa: N802
            import time

            time.sleep(2)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        oa = OpenAIEngine(
            model="m", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
            retry=RetryPolicy(max_retries=1, backoff_s=0.01, timeout_s=0.3),
        )  # fmt: skip
        with pytest.raises(StepcodeError, match="after 2 attempt.*Timeout"):
            oa.generate(["p"], GenerationParams())
        assert oa.attempts == 2
    finally:
        srv.shutdown()
        srv.server_close()
