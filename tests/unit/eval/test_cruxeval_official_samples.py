"""The CRUXEval repository's own CodeLlama-7B generations (800 items x 10, per mode), scored through
``stepcode eval score``, agree item for item with the scores the official harness recorded for them
(``samples/evaluation_results/sample_scored_codellama-7b_temp0.2_*.json``), and so do pass@1/pass@5.

The files come with a copy of facebookresearch/cruxeval: ``STEPCODE_CRUXEVAL_HARNESS`` (the same
path ``prompts: official`` reads) or ``shared/benchmarks/cruxeval/official``; skipped without them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.eval.benchmarks.assert_scoring import official_results
from stepcode.eval.benchmarks.cruxeval import load_cruxeval
from stepcode.eval.records import read_samples

SAMPLES = "samples/model_generations/sample_codellama-7b_temp0.2_{mode}/generations.json"
SCORED = "samples/evaluation_results/sample_scored_codellama-7b_temp0.2_{mode}.json"


def _harness(shared_dir: Path) -> Path:
    for root in (os.environ.get("STEPCODE_CRUXEVAL_HARNESS"), shared_dir / "benchmarks/cruxeval/official"):  # fmt: skip
        if root and (Path(root) / SCORED.format(mode="output")).is_file():
            return Path(root)
    pytest.skip("no CRUXEval harness copy with samples/ (set STEPCODE_CRUXEVAL_HARNESS)")


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("mode", ["output", "input"])
def test_codellama_generations_score_as_the_official_harness_scored_them(
    shared_dir: Path, cruxeval_path: Path, tmp_path: Path, mode: str
) -> None:
    root = _harness(shared_dir)
    official = json.loads((root / SCORED.format(mode=mode)).read_text())
    out = tmp_path / mode
    res = CliRunner().invoke(get_app(), [
        "eval", "score", "--benchmark", f"cruxeval-{mode[0]}", "--generations",
        str(root / SAMPLES.format(mode=mode)), "--data", str(cruxeval_path), "--out", str(out),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    items = load_cruxeval(str(cruxeval_path))
    samples = read_samples(out / "samples.jsonl")
    assert len(samples) == 8000
    ours = official_results(items, samples, "official", "no_pass")
    theirs = [official["raw_scored_generations"][it.item_id] for it in items]
    disagree = [it.item_id for it, a, b in zip(items, ours, theirs, strict=True) if a != b]
    assert disagree == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(official["pass_at_1"], abs=1e-9)
    assert summary["pass@5"] == pytest.approx(official["pass_at_5"], abs=1e-9)
    # checked as values, no real generation does better than as code
    assert summary["pass@1_by_value"] <= summary["pass@1"]
