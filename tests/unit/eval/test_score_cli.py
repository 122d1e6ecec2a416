"""``stepcode eval score`` end to end on official-format generation files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.eval.benchmarks.cruxeval import load_cruxeval
from stepcode.eval.records import read_samples

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lcb_execution_sample.jsonl"


def _invoke(*args: str) -> dict:
    res = CliRunner().invoke(get_app(), ["eval", "score", *args])
    assert res.exit_code == 0, res.output
    return res


def test_cruxeval_output_and_input(cruxeval_path: Path, tmp_path: Path) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=20)
    out_gens = {it.item_id: [it.data["output"]] * 2 for it in items}
    out_gens["sample_0"] = ["0", "1"]  # wrong
    out_gens["sample_1"][1] += " or True"  # right only as code
    gfile = tmp_path / "gens_out.json"
    gfile.write_text(json.dumps(out_gens))
    res = _invoke("--benchmark", "cruxeval-o", "--generations", str(gfile),
                  "--data", str(cruxeval_path), "--limit", "20", "--out", str(tmp_path / "o"))  # fmt: skip
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["n_items"] == 20 and summary["pass@1"] == 95.0
    assert summary["pass@1_by_value"] == 92.5 and summary["official_only"] == 1
    assert summary["official_only_samples"][0]["item_id"] == "sample_1"
    assert "1 generation(s) pass only as code" in res.output and "or True" in res.output
    rows = read_samples(tmp_path / "o" / "samples.jsonl")
    assert len(rows) == 40 and sum(r.correct for r in rows) == 38
    assert {r.benchmark for r in rows} == {"cruxeval-o"} and all(r.group["length"] for r in rows)

    in_gens = {it.item_id: [f"f({it.data['input']})"] for it in items}
    gfile.write_text(json.dumps(in_gens))
    _invoke("--benchmark", "cruxeval-i", "--generations", str(gfile),
            "--data", str(cruxeval_path), "--limit", "20", "--out", str(tmp_path / "i"))  # fmt: skip
    assert json.loads((tmp_path / "i" / "summary.json").read_text())["pass@1"] == 100.0


def test_old_spellings_still_work_with_a_note(cruxeval_path: Path, tmp_path: Path) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=5)
    gfile = tmp_path / "g.json"
    gfile.write_text(json.dumps({it.item_id: [it.data["output"]] for it in items}))
    for args, out in (((), "a"), (("--mode", "output"), "b")):
        res = _invoke("--benchmark", "cruxeval", *args, "--generations", str(gfile), "--data",
                      str(cruxeval_path), "--limit", "5", "--out", str(tmp_path / out))  # fmt: skip
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        assert summary["benchmark"] == "cruxeval-o" and summary["pass@1"] == 100.0
        assert "deprecated" in summary["notes"][0] and "--benchmark cruxeval-o" in res.output
    res = CliRunner().invoke(get_app(), ["eval", "score", "--benchmark", "cruxeval-o", "--mode",
                                         "input", "--generations", str(gfile), "--out", str(tmp_path)])  # fmt: skip
    assert res.exit_code == 2 and "drop --mode" in res.output


def test_lcb_fixture(tmp_path: Path) -> None:
    rows = [json.loads(x) for x in FIXTURE.read_text().splitlines()]
    gens = {r["id"]: [f"assert {r['input']} == {r['output']}\n[/ANSWER]"] for r in rows}
    gens["sample_1"] = ["[ANSWER]assert x == -5[/ANSWER]"]
    g = tmp_path / "lcb.json"
    g.write_text(json.dumps(gens))
    _invoke(
        "--benchmark",
        "lcb-cot",
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
    for args, out in ((("--benchmark", "reval-coverage"), "r"),
                      (("--benchmark", "reval", "--mode", "coverage"), "old")):  # fmt: skip
        _invoke(*args, "--generations", str(log), "--data", str(reval_dir), "--limit", "2",
                "--out", str(tmp_path / out))  # fmt: skip
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        assert summary["coverage_rec"] == 100.0  # always YES: every executed line is recalled
        assert 0.0 < summary["coverage_acc"] < 100.0 or summary["coverage_prec"] == 100.0
        assert summary["benchmark"] == "reval-coverage"
    assert read_samples(tmp_path / "r" / "samples.jsonl") == read_samples(
        tmp_path / "old" / "samples.jsonl"
    )


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
    _invoke("--benchmark", "reval", "--generations", str(root),
            "--data", str(reval_dir), "--limit", "2", "--out", str(tmp_path / "r"))  # fmt: skip
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["ic"] == 100.0 and summary["avg_acc"] == 100.0
