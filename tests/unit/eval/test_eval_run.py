"""``stepcode eval run`` / ``stepcode eval CONFIG.yaml`` through the CLI with a real tiny HF model
and a local CRUXEval file: files, grouped plots, config routing, operator errors."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.eval.records import read_samples
from stepcode.models import build_tiny_model, save_policy, train_tokenizer

ROWS = [
    {
        "id": f"sample_{i}",
        "code": f"def f(x):\n    return x + {i}",
        "input": "1",
        "output": str(i + 1),
    }
    for i in range(3)
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    tok = train_tokenizer(["def f(x):\n    return x + 1\nassert f(1) == 2\n"] * 30, vocab_size=300)
    return save_policy(build_tiny_model(tok, seed=3, max_positions=512), tok,
                       tmp_path_factory.mktemp("m"))  # fmt: skip


@pytest.fixture()
def data(tmp_path):
    p = tmp_path / "crux.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return p


def test_eval_run_hf_greedy_writes_summary_and_samples(tmp_path, model_dir, data):
    out = tmp_path / "out"
    args = ["eval", "run", "--model", str(model_dir), "--backend", "hf", "--benchmarks",
            "cruxeval-o", "--data", f"cruxeval-o={data}", "--greedy", "--set", "max_tokens=6",
            "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(get_app(), args)
    assert r.exit_code == 0, r.output
    assert "pass@1" in r.output and "greedy" in r.output
    s = json.loads((out / "summary.json").read_text())["benchmarks"]["cruxeval-o"]
    assert s["n_items"] == 3 and s["settings"]["max_tokens"] == 6 and s["settings"]["n"] == 1
    rows = read_samples(out / "cruxeval-o/samples.jsonl")
    assert len(rows) == 3 and all(r.benchmark == "cruxeval-o" and r.prompt for r in rows)
    # the grouped plots of ``eval report`` appear for an ``eval run`` directory too
    assert all(r.group == {"length": "1-5"} for r in rows)
    html = (out / "report.html").read_text()
    png = out / "accuracy_by_length.png"
    assert (
        png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and html.count("data:image/png;base64,") == 2
    )
    assert (out / "scores.png").is_file() and "cruxeval-o" in html


def test_stepcode_eval_config_yaml_with_sets_and_out(tmp_path, model_dir, data):
    """``stepcode eval CONFIG.yaml --set key=value --out DIR`` is ``eval run CONFIG.yaml ...``."""
    cfg = tmp_path / "e.yaml"
    cfg.write_text(
        f"model: {{path: {model_dir}}}\nbenchmarks: [cruxeval-o]\n"
        f"data: {{cruxeval-o: {data}}}\nsampling: {{greedy: true, max_tokens: 4}}\n"
    )
    out = tmp_path / "o"
    r = CliRunner().invoke(get_app(), ["eval", str(cfg), "--set", "limit=2", "--set",
                                       "sampling.max_tokens=5", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())["benchmarks"]["cruxeval-o"]
    assert s["n_items"] == 2 and s["settings"]["max_tokens"] == 5 and s["settings"]["n"] == 1
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["limit"] == 2 and saved["model"]["path"] == str(model_dir)
    dry = CliRunner().invoke(get_app(), ["eval", str(cfg), "--dry-run", "--greedy", "--limit", "1"])
    assert dry.exit_code == 0 and "limit: 1" in dry.output and "greedy: true" in dry.output


def test_eval_run_operator_errors(tmp_path):
    run = CliRunner().invoke
    base = ["eval", "run", "--model", "m", "--out", str(tmp_path)]
    r = run(get_app(), [*base, "--set", "nokey"])
    assert r.exit_code == 2 and "key=value" in r.output
    r = run(get_app(), [*base, "--benchmarks", "nope"])
    assert r.exit_code == 2 and "unknown benchmark" in r.output
    r = run(get_app(), [*base, "--prompt-style", "xml"])
    assert r.exit_code == 2 and "prompt_style" in r.output and "'chat'" in r.output
    r = run(get_app(), [*base, "--backend", "tgi"])
    assert r.exit_code == 2 and "backend" in r.output
    r = run(get_app(), ["eval", "run", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "model.path" in r.output
    r = run(get_app(), [*base, "--prompts", "official", "--harness", f"cruxeval={tmp_path}/none"])
    assert r.exit_code == 2 and "does not exist" in r.output
    r = run(get_app(), ["eval", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "config file not found" in r.output
    if importlib.util.find_spec("vllm") is None:
        r = run(get_app(), [*base, "--backend", "vllm"])
        assert r.exit_code == 2 and "pip install" in r.output


def test_eval_run_openai_backend_against_the_loopback_server_matches_hf(tmp_path, model_dir, data):
    from stepcode.eval.server import start_server
    from stepcode.rollout.engines import HFEngine

    common = ["--benchmarks", "cruxeval-o", "--data", f"cruxeval-o={data}", "--greedy",
              "--set", "max_tokens=6"]  # fmt: skip
    r = CliRunner().invoke(get_app(), ["eval", "run", "--model", str(model_dir), *common,
                                       "--out", str(tmp_path / "hf")])  # fmt: skip
    assert r.exit_code == 0, r.output
    with start_server(HFEngine.from_pretrained(str(model_dir), device="cpu"), model_name="t") as h:
        r = CliRunner().invoke(get_app(), ["eval", "run", "--model", "t", "--backend", "openai",
                                           "--base-url", h.base_url, "--concurrency", "2",
                                           *common, "--out", str(tmp_path / "oa")])  # fmt: skip
    assert r.exit_code == 0, r.output

    def gens(d):
        lines = (tmp_path / d / "cruxeval-o/samples.jsonl").read_text().splitlines()
        return [(x["item_id"], x["generation"], x["correct"]) for x in map(json.loads, lines)]

    assert gens("oa") == gens("hf") and len(gens("hf")) == 3
