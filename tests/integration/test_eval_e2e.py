"""``stepcode eval run`` killed with SIGKILL mid-generation, rerun: only missing samples, none lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from stepcode.models import build_tiny_model, save_policy, train_tokenizer

N_ITEMS = 10


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_then_resume_loses_nothing_and_regenerates_nothing(tmp_path):
    tok = train_tokenizer(["def f(x):\n    return x + 1\nassert f(1) == 2\n"] * 30, vocab_size=300)
    model_dir = save_policy(build_tiny_model(tok, seed=4), tok, tmp_path / "m")
    data = tmp_path / "crux.jsonl"
    data.write_text("".join(json.dumps({"id": f"sample_{i}", "code": f"def f(x):\n    return x+{i}",
                                        "input": "1", "output": str(i + 1)}) + "\n"
                            for i in range(N_ITEMS)))  # fmt: skip
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "stepcode", "eval", "run", "--model", str(model_dir),
           "--benchmarks", "cruxeval-o", "--data", f"cruxeval-o={data}", "--set", "n=2",
           "--set", "max_tokens=24", "--chunk-size", "1", "--batch-size", "1", "--out", str(out)]  # fmt: skip
    gen = out / "cruxeval-o" / "generations.jsonl"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if gen.exists() and gen.read_text().count("\n") >= 4:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = gen.read_text()
    n_before = before.count("\n")
    assert 4 <= n_before < 2 * N_ITEMS
    fast = [*cmd[:-4], "--chunk-size", "8", "--batch-size", "8", *cmd[-2:]]
    done = subprocess.run(fast, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    after = gen.read_text()
    assert after.startswith(before[: before.rfind("\n") + 1])  # nothing lost or rewritten
    keys = [(r["item_id"], r["sample_idx"]) for r in map(json.loads, after.splitlines())]
    assert len(keys) == len(set(keys)) == 2 * N_ITEMS  # nothing generated twice
    summary = json.loads((out / "summary.json").read_text())["benchmarks"]["cruxeval-o"]
    assert summary["n_items"] == N_ITEMS and summary["settings"]["n"] == 2
