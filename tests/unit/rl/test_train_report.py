"""Run report: one PNG per logged curve, the accuracy bars, and an HTML table of the numbers."""

from __future__ import annotations

from pathlib import Path

from stepcode.metrics import JsonlSink
from stepcode.rl.report import write_report


def _table(final: float, step: float) -> dict[str, dict[str, float]]:
    row = {"n": 10.0, "final_acc": final, "step_acc": step, "gap": final - step,
           "right_answer_wrong_steps": 0.1}  # fmt: skip
    return {"1": row, "all": row}


def test_report_has_curves_bars_and_the_numbers(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "metrics.jsonl")
    for step in range(1, 4):
        sink.log(step, {"loss/sft": 3.0 / step})
    for step in range(4, 7):
        sink.log(step, {"reward/outcome": step / 10, "loss/policy": float("nan")})
    sink.close()
    out = write_report(tmp_path, _table(0.0, 0.05), _table(0.625, 0.71))
    pngs = {p.name for p in (tmp_path / "plots").glob("*.png")}
    assert pngs == {"loss_sft.png", "reward_outcome.png", "accuracy_by_level.png"}
    assert all((tmp_path / "plots" / p).read_bytes().startswith(b"\x89PNG") for p in pngs)
    page = out.read_text()
    assert "62.5%" in page and "71.0%" in page and "0.0%" in page
    assert page.count("data:image/png;base64,") == 3
