"""report.html + PNGs from scored runs: real plots from real summaries and sample rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.errors import DataError
from stepcode.eval.report import accuracy_by, write_report

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
    rows = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    by_diff = accuracy_by(rows, "difficulty")
    assert by_diff["hard"] == (0.0, 1) and by_diff["easy"][0] == 100.0
    aligned = tmp_path / "aligned"
    aligned.mkdir()
    (aligned / "summary.json").write_text(
        json.dumps({"benchmark": "cruxeval-o-aligned", "pass@1": 50.0})
    )
    (aligned / "samples.jsonl").write_text(
        json.dumps({"item_id": "a", "correct": True, "step_correct": [True, False, True]}) + "\n"
        + json.dumps({"item_id": "b", "correct": False, "step_correct": [False]}) + "\n"
    )  # fmt: skip
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
        (d / "samples.jsonl").write_text(
            json.dumps({"item_id": "x", "correct": True, "length": "1-5"}) + "\n"
        )
    (tmp_path / "summary.json").write_text(json.dumps({"benchmarks": {}}))
    target = write_report(tmp_path)
    assert target == tmp_path / "report.html"
    html = target.read_text()
    assert (
        "cruxeval-o" in html and "lcb" in html and (tmp_path / "accuracy_by_length.png").is_file()
    )
