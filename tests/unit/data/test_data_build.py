"""``build_dataset`` / ``stepcode data build``: outputs, re-verification, determinism, resume,
decontamination report, operator errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.data import build as build_mod
from stepcode.data.build import build_dataset
from stepcode.data.config import (
    DataBuildConfig,
    DecontamSection,
    SourceSpec,
    SplitSection,
    SynthSection,
)
from stepcode.execution import Job, run_jobs
from stepcode.io import read_jsonl
from stepcode.types import Task

OUT_FILES = ("programs.jsonl", "traces.jsonl", "sft.jsonl", "rl.jsonl", "eval.jsonl", "manifest.json",
             "hf/sft.parquet", "hf/rl.parquet", "hf/eval.parquet")  # fmt: skip
REAL = "def digits(n: int) -> list:\n    out = []\n    while n > 0:\n        out.append(n % 10)\n        n //= 10\n    return out\n"


def _cfg(**kw) -> DataBuildConfig:
    base = dict(
        seed=4,
        synth=SynthSection(levels=(1, 3, 6), per_level=10),
        split=SplitSection(eval_per_level=2),
        chunk=8,
    )
    return DataBuildConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    build_dataset(_cfg(), out)
    return out


def test_outputs_and_manifest(built: Path) -> None:
    for f in OUT_FILES:
        assert (built / f).is_file(), f
    m = json.loads((built / "manifest.json").read_text())
    assert set(m["counts"]["per_level"]) == {"L1", "L3", "L6"}
    for lv in m["counts"]["per_level"].values():
        assert (
            lv["verified"] == 10
            and lv["eval"] == 2
            and lv["tasks"] == lv["sft"] + lv["rl"] + lv["eval"]
        )
    assert m["config"]["synth"]["per_level"] == 10 and len(m["sha256"]) == 8
    tasks = [Task.from_dict(d) for d in read_jsonl(built / "eval.jsonl")]
    assert {t.kind.value for t in tasks} == {"output", "input", "output_aligned", "input_aligned"}
    assert all(t.metadata["split"] == "eval" for t in tasks)
    import datasets

    ds = datasets.load_dataset(
        "parquet", data_files=str(built / "hf" / "sft.parquet"), split="train"
    )
    assert len(ds) == sum(1 for _ in read_jsonl(built / "sft.jsonl"))
    assert ds[0]["completion"].rstrip().endswith("</answer>")


def test_every_emitted_triple_reverifies(built: Path) -> None:
    programs = list(read_jsonl(built / "programs.jsonl"))
    traces = {r["program_id"]: r["trace"] for r in read_jsonl(built / "traces.jsonl")}
    runs = run_jobs(
        [Job(code=p["code"], call=f"{p['entry_point']}({p['input_args']})") for p in programs]
    )
    for p, run in zip(programs, runs, strict=True):
        assert run.result.return_value == p["output"], p["code"]
        assert traces[p["program_id"]]["result"]["return_value"] == p["output"]
        assert traces[p["program_id"]]["events"]


def test_same_seed_and_config_is_byte_identical_and_resume_reuses_checkpoints(
    built, tmp_path, monkeypatch
) -> None:
    other = tmp_path / "again"
    build_dataset(_cfg(), other)
    for f in OUT_FILES:
        assert (other / f).read_bytes() == (built / f).read_bytes(), f
    # interrupted after the expensive stages: outputs gone, checkpoints left -> no re-synthesis
    for f in OUT_FILES:
        (other / f).unlink()
    monkeypatch.setattr(
        build_mod, "synthesize_programs", lambda *a, **k: pytest.fail("re-synthesized")
    )
    build_dataset(_cfg(), other)
    for f in OUT_FILES:
        assert (other / f).read_bytes() == (built / f).read_bytes(), f


def test_planted_cruxeval_program_is_removed_and_named(cruxeval_path, tmp_path) -> None:
    crux = json.loads(cruxeval_path.read_text().splitlines()[2])  # sample_2
    renamed = (
        crux["code"]
        .replace("new_text", "buf")
        .replace("text", "s")
        .replace("def f(", "def strip_plus(")
    )
    src = tmp_path / "src"
    src.mkdir()
    (src / "planted.py").write_text(renamed)
    (src / "digits.py").write_text(REAL)
    cfg = _cfg(
        synth=SynthSection(levels=(1,), per_level=6),
        sources=(SourceSpec(kind="files", path=str(src)),),
        decontam=DecontamSection(cruxeval=str(cruxeval_path)),
    )
    m = build_dataset(cfg, tmp_path / "out")
    named = {(c["benchmark"], c["item_id"]) for c in m["contamination"]}
    assert ("cruxeval", crux["id"]) in named
    assert all(c["program_id"].startswith("files-planted") for c in m["contamination"])
    assert m["counts"]["removed"]["contaminated:cruxeval"] >= 1
    kept = [p for p in read_jsonl(tmp_path / "out" / "programs.jsonl") if p["source"] == "files"]
    assert kept and all(p["entry_point"] == "digits" for p in kept)
    report = json.loads((tmp_path / "out" / "decontamination.json").read_text())
    assert report[0]["item_id"] == crux["id"]


def test_cli_build_and_operator_errors(tmp_path) -> None:
    runner = CliRunner()
    app = get_app()
    cfg = tmp_path / "c.yaml"
    cfg.write_text("synth:\n  levels: [1]\n  per_level: 4\nsplit:\n  eval_per_level: 1\n")
    ok = runner.invoke(
        app, ["data", "build", str(cfg), "--out", str(tmp_path / "o"), "--set", "seed=2"]
    )
    assert ok.exit_code == 0, ok.output
    assert "L1" in ok.output and (tmp_path / "o" / "manifest.json").is_file()
    bad_key = runner.invoke(
        app, ["data", "build", str(cfg), "--out", str(tmp_path / "o2"), "--set", "synth.levle=1"]
    )
    assert bad_key.exit_code == 2 and "did you mean" in bad_key.output
    cfg.write_text("sources:\n  - kind: files\n    path: /nonexistent/dir\n")
    bad_src = runner.invoke(app, ["data", "build", str(cfg), "--out", str(tmp_path / "o3")])
    assert bad_src.exit_code == 2 and "not a directory" in bad_src.output
    synth = runner.invoke(app, ["data", "synth", "--level", "3", "-n", "2", "--seed", "0"])
    assert synth.exit_code == 0 and synth.output.count("assert f(") == 2


def test_oversample_then_cap_per_level(tmp_path) -> None:
    cfg = _cfg(
        synth=SynthSection(levels=(3,), per_level=6, oversample=2.0),
        split=SplitSection(eval_per_level=1),
    )
    m = build_dataset(cfg, tmp_path)
    lv = m["counts"]["per_level"]["L3"]
    assert lv["verified"] == 12 and lv["tasks"] > 6
    assert sum(lv.get(s, 0) for s in ("sft", "rl", "eval")) == 6
    assert m["counts"]["removed"]["over_per_level"] == lv["tasks"] - 6
