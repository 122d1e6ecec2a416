"""``check_model_source``: a model that cannot be loaded is found in seconds, before any long work."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stepcode.errors import ConfigError
from stepcode.models import check_model_source

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=full
    )


def test_local_dirs(tmp_path):
    from stepcode.models import build_tiny_model, save_policy, train_tokenizer

    with pytest.raises(ConfigError, match="does not exist"):
        check_model_source(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        check_model_source(tmp_path / "empty")
    tok = train_tokenizer(["def f(x):\n    return x\n"] * 4, vocab_size=300)
    save_policy(build_tiny_model(tok), tok, tmp_path / "m")
    assert check_model_source(tmp_path / "m") == "local"
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match="no weights"):
        check_model_source(tmp_path / "m")


def test_hub_id_offline_cache_and_unreachable_mirror(tmp_path):
    code = (
        "from stepcode.models import check_model_source\n"
        "from stepcode.errors import ConfigError\n"
        "try:\n    print(check_model_source('org/model', timeout_s=5))\n"
        "except ConfigError as e:\n    print('ERR', e)\n"
    )
    hf = {"HF_HOME": str(tmp_path / "hf")}
    off = _run(code, HF_HUB_OFFLINE="1", **hf)
    assert off.stdout.startswith("ERR model 'org/model' is not in the Hugging Face cache")
    assert "HF_HUB_OFFLINE" in off.stdout and "model.path=" in off.stdout
    t0 = time.perf_counter()
    down = _run(code, HF_HUB_OFFLINE="0", HF_ENDPOINT="http://127.0.0.1:9", **hf)  # nothing there
    assert time.perf_counter() - t0 < 60
    assert (
        down.stdout.startswith("ERR model 'org/model' cannot be loaded")
        and "HF_ENDPOINT" in down.stdout
    )
    snap = tmp_path / "hf" / "hub" / "models--org--model"  # the layout a download leaves
    (snap / "snapshots" / "abc").mkdir(parents=True)
    (snap / "refs").mkdir()
    (snap / "refs" / "main").write_text("abc")
    (snap / "snapshots" / "abc" / "config.json").write_text("{}")
    assert _run(code, HF_HUB_OFFLINE="1", **hf).stdout.strip() == "cache"


def test_stepcode_train_without_the_weights_exits_2_in_seconds(tmp_path):
    config = ROOT / "configs" / "train" / "qwen2.5-coder-7b-instruct.yaml"
    code = "import sys; from stepcode.cli import main; sys.argv = sys.argv[1:]; main()"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, "stepcode", "train", str(config), "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert time.perf_counter() - t0 < 60  # not the 4 minutes of data building first
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Qwen/Qwen2.5-Coder-7B-Instruct" in lines[0]
    assert not (tmp_path / "r" / "data").exists()
