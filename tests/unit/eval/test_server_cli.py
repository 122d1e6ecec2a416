"""``stepcode serve`` as a real subprocess, queried with the openai client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from stepcode.models import build_tiny_model, save_policy, train_tokenizer
from stepcode.rollout.engines import GenerationParams, OpenAIEngine


@pytest.mark.timeout(300)
def test_serve_subprocess_answers_completions(tmp_path):
    tok = train_tokenizer(["def f(x):\n    return x + 1\n"] * 30, vocab_size=300)
    model_dir = save_policy(build_tiny_model(tok, seed=5, max_positions=256), tok, tmp_path / "m")
    proc = subprocess.Popen(
        [sys.executable, "-m", "stepcode", "serve", "--model", str(model_dir), "--port", "0",
         "--name", "tiny", "--device", "cpu"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = ""
        while "serving" not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "server exited before serving"
        url = line.rsplit(" at ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        oa = OpenAIEngine(model="tiny", base_url=url)
        out = oa.generate(["def f(x):", [{"role": "user", "content": "hi"}]],
                          GenerationParams(n=2, temperature=0.7, max_tokens=5, seed=0))  # fmt: skip
        assert [len(c) for c in out] == [2, 2]
        assert all(c.finish_reason in ("stop", "length") for cs in out for c in cs)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
