"""``stepcode eval score`` end to end on official-format generation files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.eval.benchmarks.cruxeval import load_cruxeval

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lcb_execution_sample.jsonl"


def _invoke(*args: str) -> dict:
    res = CliRunner().invoke(get_app(), ["eval", "score", *args])
    assert res.exit_code == 0, res.output
    return res


def test_cruxeval_output_and_input(cruxeval_path: Path, tmp_path: Path) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=20)
    out_gens = {it.item_id: [it.data["output"]] * 2 for it in items}
    out_gens["sample_0"] = ["0", "1"]  # wrong
    gfile = tmp_path / "gens_out.json"
    gfile.write_text(json.dumps(out_gens))
    _invoke("--benchmark", "cruxeval", "--mode", "output", "--generations", str(gfile),
            "--data", str(cruxeval_path), "--limit", "20", "--out", str(tmp_path / "o"))  # fmt: skip
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["n_items"] == 20 and summary["pass@1"] == 95.0
    rows = [json.loads(x) for x in (tmp_path / "o" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 40 and sum(r["correct"] for r in rows) == 38

    in_gens = {it.item_id: [f"f({it.data['input']})"] for it in items}
    gfile.write_text(json.dumps(in_gens))
    _invoke("--benchmark", "cruxeval", "--mode", "input", "--generations", str(gfile),
            "--data", str(cruxeval_path), "--limit", "20", "--out", str(tmp_path / "i"))  # fmt: skip
    assert json.loads((tmp_path / "i" / "summary.json").read_text())["pass@1"] == 100.0


def test_lcb_fixture(tmp_path: Path) -> None:
    rows = [json.loads(x) for x in FIXTURE.read_text().splitlines()]
    gens = {r["id"]: [f"assert {r['input']} == {r['output']}\n[/ANSWER]"] for r in rows}
    gens["sample_1"] = ["[ANSWER]assert x == -5[/ANSWER]"]
    g = tmp_path / "lcb.json"
    g.write_text(json.dumps(gens))
    _invoke(
        "--benchmark",
        "lcb",
        "--generations",
        str(g),
        "--data",
        str(FIXTURE),
        "--out",
        str(tmp_path / "l"),
    )
    summary = json.loads((tmp_path / "l" / "summary.json").read_text())
    assert summary["pass@1"] == 100.0 * 7 / 8


def test_reval_official_log(reval_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "coverage@m" / "24-01-01-00-00.jsonl"
    log.parent.mkdir()
    tasks = [json.loads(x) for x in (reval_dir / "DREval_tasks.jsonl").read_text().splitlines()][:2]
    recs = [{"task_id": t["task_id"], "generation": [
        {"input_idx": p["input_idx"], "results": [{"generated": "YES\n[/ANSWER]"} for _ in p["task"]]}
        for p in t["tasks"]]} for t in tasks]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in recs) + json.dumps({"acc": 0.0}) + "\n")
    _invoke("--benchmark", "reval", "--mode", "coverage", "--generations", str(log),
            "--data", str(reval_dir), "--limit", "2", "--out", str(tmp_path / "r"))  # fmt: skip
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["coverage_rec"] == 100.0  # always YES: every executed line is recalled
    assert 0.0 < summary["coverage_acc"] < 100.0 or summary["coverage_prec"] == 100.0


def test_bad_inputs_fail_clearly(tmp_path: Path) -> None:
    res = CliRunner().invoke(get_app(), ["eval", "score", "--benchmark", "nope", "--generations",
                                         str(FIXTURE), "--out", str(tmp_path)])  # fmt: skip
    assert res.exit_code != 0
    g = tmp_path / "g.json"
    g.write_text("{not json")
    res = CliRunner().invoke(get_app(), ["eval", "score", "--benchmark", "lcb", "--generations", str(g),
                                         "--data", str(FIXTURE), "--out", str(tmp_path)])  # fmt: skip
    assert res.exit_code != 0 and "not JSON" in res.output


def test_reval_all_tasks_directory_gives_ic(reval_dir: Path, tmp_path: Path) -> None:
    from stepcode.eval.benchmarks import reval

    items, _ = reval.load_reval(reval_dir, limit=2)
    traces = reval.trace_items(items)
    root = tmp_path / "model_generations"
    for task in reval.TASKS:
        recs: dict[str, dict] = {}
        for it, tr in zip(items, traces, strict=True):
            rec = recs.setdefault(it.idx, {"task_id": f"DREval/{it.idx}", "generation": []})
            gens = reval.gold_generations(it, tr, task)
            rec["generation"].append(
                {"input_idx": it.input_idx, "results": [{"generated": g} for g in gens]}
            )
        (root / f"{task}@m").mkdir(parents=True)
        body = (
            "".join(json.dumps(r) + "\n" for r in recs.values()) + json.dumps({"acc": 1.0}) + "\n"
        )
        (root / f"{task}@m" / "24-01-01-00-00.jsonl").write_text(body)
    _invoke("--benchmark", "reval", "--mode", "all", "--generations", str(root),
            "--data", str(reval_dir), "--limit", "2", "--out", str(tmp_path / "r"))  # fmt: skip
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["ic"] == 100.0 and summary["avg_acc"] == 100.0
