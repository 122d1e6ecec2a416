"""report.html + PNGs from scored runs: real plots from real summaries and sample rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.errors import DataError
from stepcode.eval.records import read_samples
from stepcode.eval.report import accuracy_by, write_report
from stepcode.io import write_jsonl
from stepcode.types import SampleRecord

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lcb_execution_sample.jsonl"


def _scored_lcb(tmp_path: Path) -> Path:
    rows = [json.loads(x) for x in FIXTURE.read_text().splitlines()]
    gens = {r["id"]: [r["output"] if r["difficulty"] != "hard" else "None"] for r in rows}
    g = tmp_path / "g.json"
    g.write_text(json.dumps(gens))
    res = CliRunner().invoke(get_app(), ["eval", "score", "--benchmark", "lcb", "--generations", str(g),
                                         "--data", str(FIXTURE), "--out", str(tmp_path / "lcb")])  # fmt: skip
    assert res.exit_code == 0, res.output
    return tmp_path / "lcb"


def test_report_from_scored_run(tmp_path: Path) -> None:
    run = _scored_lcb(tmp_path)
    rows = read_samples(run / "samples.jsonl")
    by_diff = accuracy_by(rows, "difficulty")
    assert by_diff["hard"] == (0.0, 1) and by_diff["easy"][0] == 100.0
    aligned = tmp_path / "aligned"
    aligned.mkdir()
    (aligned / "summary.json").write_text(
        json.dumps({"benchmark": "cruxeval-o-aligned", "pass@1": 50.0})
    )
    write_jsonl(aligned / "samples.jsonl", [
        SampleRecord(item_id="a", generation="g", correct=True, steps=(1.0, 0.0, 1.0)).to_dict(),
        SampleRecord(item_id="b", generation="g", correct=False, steps=(0.0,)).to_dict(),
    ])  # fmt: skip
    res = CliRunner().invoke(
        get_app(), ["eval", "report", str(run), str(aligned), "--out", str(tmp_path / "rep")]
    )
    assert res.exit_code == 0, res.output
    html = (tmp_path / "rep" / "report.html").read_text()
    for png in (
        "scores.png",
        "accuracy_by_difficulty.png",
        "accuracy_by_length.png",
        "step_heatmap_1.png",
    ):
        p = tmp_path / "rep" / png
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert html.count("data:image/png;base64,") == 4
    assert "cruxeval-o-aligned" in html and "lcb" in html
    assert not (tmp_path / "rep" / "step_heatmap_0.png").exists()  # LCB rows have no steps


def test_missing_summary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="summary.json"):
        write_report([tmp_path], tmp_path / "out")


def test_eval_run_layout_single_dir(tmp_path: Path) -> None:
    """``write_report(OUT)`` as ``eval run`` calls it: OUT/<benchmark>/{summary,samples} -> OUT/report.html."""
    for name, score in (("cruxeval-o", 80.0), ("lcb", 60.0)):
        d = tmp_path / name
        d.mkdir()
        (d / "summary.json").write_text(json.dumps({"benchmark": name, "pass@1": score}))
        row = SampleRecord(item_id="x", generation="1", correct=True, group={"length": "1-5"})
        write_jsonl(d / "samples.jsonl", [row.to_dict()])
    (tmp_path / "summary.json").write_text(json.dumps({"benchmarks": {}}))
    target = write_report(tmp_path)
    assert target == tmp_path / "report.html"
    html = target.read_text()
    assert (
        "cruxeval-o" in html and "lcb" in html and (tmp_path / "accuracy_by_length.png").is_file()
    )


def test_hostile_text_in_a_run_is_shown_inert(tmp_path: Path) -> None:
    """Generations and notes reach report.html escaped: no markup, no raw control characters."""
    d = tmp_path / "cruxeval-o"
    d.mkdir()
    evil = "<script>alert(1)</script>\x1b[2J\u202e"
    (d / "summary.json").write_text(json.dumps({
        "benchmark": "cruxeval-o", "pass@1": 50.0, "notes": [evil],
        "official_only_samples": [{"item_id": "sample_0", "sample_idx": 0, "extracted": evil,
                                   "by_value": "not_literal"}],
    }))  # fmt: skip
    write_jsonl(d / "samples.jsonl", [SampleRecord(item_id="sample_0", generation=evil,
                                                   correct=True).to_dict()])  # fmt: skip
    page = write_report(tmp_path).read_text()
    assert "<script>" not in page and "\x1b" not in page and "\u202e" not in page
    assert "&lt;script&gt;" in page and "Pass only under the official harness" in page


def test_a_broken_sample_row_names_file_and_row(tmp_path: Path) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"benchmark": "x"}))
    (d / "samples.jsonl").write_text(json.dumps({"item_id": "a", "correct": "yes"}) + "\n")
    with pytest.raises(DataError, match=r"samples.jsonl: row 1: .*'generation' is missing"):
        write_report([d], tmp_path / "o")
