"""REval ClassEval part: gold answers score 100 %, perturbed and hostile ones fail, prompts and the
answer-to-method transform follow REval, missing third-party modules skip cleanly."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from stepcode.eval.benchmarks import reval
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks import reval_classeval as rc
from stepcode.eval.benchmarks.reval_data import reval_item
from stepcode.eval.benchmarks.reval_prompts import official_prompts

SUBSET = (85, 86, 96)  # AreaCalculator (attributes), ArgumentParser and BookManagement (setUp)


def _classeval(reval_dir: Path, idxs: tuple[int, ...] | None = None) -> list:
    items, _ = reval.load_reval(reval_dir)
    return [it for it in items if it.classeval is not None and (idxs is None or it.idx in idxs)]


def _gold(items: list, mode: str = "official") -> tuple[list, dict]:
    traces = reval.trace_items(items)
    outs = reval.gold_outputs(items)
    gens = {t: {} for t in reval.TASKS}
    for it, tr in zip(items, traces, strict=True):
        for t in ("coverage", "state", "path"):
            gens[t][it.item_id] = reval.gold_generations(it, tr, t, mode)  # type: ignore[arg-type]
        gens["output"][it.item_id] = [f"{outs[it.item_id]}\n[/ANSWER]"]
    return traces, gens


def _all_100(summary: dict) -> list[str]:
    keys = ("coverage_acc", "state_acc", "path_acc", "output_acc", "ic")
    return [k for k in keys if summary[k] != 100.0]


def test_gold_classeval_subset_scores_100(reval_dir: Path) -> None:
    items = _classeval(reval_dir, SUBSET)
    assert {it.idx for it in items} == set(SUBSET)
    traces, gens = _gold(items)
    summary, _ = reval.score_reval(items, traces, gens)
    assert _all_100(summary) == []
    assert summary["coverage_n"] == sum(len(it.questions) for it in items)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["official", "strict"])
def test_gold_classeval_part_scores_100(reval_dir: Path, mode: str) -> None:
    items, skipped = reval.load_reval(reval_dir)
    ce = [it for it in items if it.classeval is not None]
    assert len(ce) + skipped == 294  # REval's ClassEval pairs: runnable here + skipped (deps)
    traces, gens = _gold(ce, mode)
    summary, results = reval.score_reval(ce, traces, gens, mode=mode)  # type: ignore[arg-type]
    # official: REval's product needs the literal form of what it indexes; DREval/86's
    # ``self.types[arg]`` indexes a dict of classes (3 questions), read per state instead
    assert summary["state_inexact"] <= (3 if mode == "official" else 0)
    # REval asserts every test passes; a test that fails here (numpy 2 removed ``np.mat``, used by
    # DREval/122) has no ground truth, and a value with no text form REval parses (a dict holding
    # datetimes and arrays) has no correct state answer: both are left out and counted
    broken = {
        it.item_id for it, tr in zip(ce, traces, strict=True) if tr.result.status.value != "ok"
    }
    unanswerable = {
        (k, q)
        for k, gs in gens["state"].items()
        for q, g in enumerate(gs)
        if ra.parse_state(g, cot=False) == ra.ERROR
    }
    wrong = [
        (r.task, r.item_id, r.q)
        for r in results
        if not r.correct and r.item_id not in broken and (r.item_id, r.q) not in unanswerable
    ]
    assert wrong == []
    assert len(broken) <= 3 and len(unanswerable) <= 3, (broken, unanswerable)


def _perturb(task: str, gen: str) -> str:
    ans = gen.removesuffix("\n[/ANSWER]")
    if task == "coverage":
        return "NO" if ans == "YES" else "YES"
    if task == "path":
        return "return 'no such line'"
    if task == "state":
        return "Nil" if ans != "Nil" else "0; int"
    lines = ans.split("\n")
    return "\n".join(lines[:-1] + [lines[-1].replace("assert", "assertNotIn(1, [1]); assert", 1)])


def test_perturbed_classeval_answers_fail(reval_dir: Path) -> None:
    items = _classeval(reval_dir, SUBSET)
    traces, gold = _gold(items)
    bad = {t: {k: [_perturb(t, g) for g in gs] for k, gs in per.items()} for t, per in gold.items()}
    summary, _ = reval.score_reval(items, traces, bad)
    assert [t for t in reval.TASKS if summary[f"{t}_acc"] != 0.0] == []
    assert summary["ic"] == 0.0


def test_test_classes_match_the_stored_inputs(reval_dir: Path) -> None:
    """The class picked for pair i is the one whose first test method REval turned into inputs[i]
    (REval's authors hand-edited some inputs: tabs for nested blocks, a few ``self.`` dropped)."""
    data = [json.loads(x) for x in (reval_dir / "DREval_data.jsonl").read_text().splitlines()]
    checked = 0
    for prog in data[85:154]:
        classes = rc.test_classes(prog["test"], prog["entry_point"])
        assert len(classes) == len(prog["inputs"]), prog["task_id"]
        lines = prog["test"].split("\n")
        for cls, inp in zip(classes, prog["inputs"], strict=True):
            fn = next(
                f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")
            )
            body = lines[fn.lineno : fn.end_lineno]
            text = "".join((x + "\n").replace("self.assert", "assert").lstrip() for x in body)
            assert _loose(text) == _loose(inp), prog["task_id"]
            checked += 1
    assert checked == sum(len(p["inputs"]) for p in data[85:154])


def _loose(text: str) -> str:
    return "".join(text.replace("self.", "").split())


def _official(reval_dir: Path):
    d = reval_dir / "prompts"
    if not (d / "direct_state.txt").is_file():
        pytest.skip("REval's official prompts are not present")
    return official_prompts(str(d))


def test_prompts_show_setup_and_the_test_snippet(reval_dir: Path) -> None:
    official = _official(reval_dir)
    (it,) = [i for i in _classeval(reval_dir, (86,)) if i.input_idx == 0]
    setup = it.classeval.setup
    assert setup.lstrip().startswith("def setUp(self):")
    body = setup.split("\n")[1:]
    snippet = it.input.rstrip()
    for cot in (False, True):  # REval's prompt.py: str.format of the template file
        for task in reval.TASKS:
            src = (reval_dir / "prompts" / f"{'cot' if cot else 'direct'}_{task}.txt").read_text()
            want = [src.format(**v) for v in reval.prompt_values(it, task)]
            assert reval.prompts(it, task, cot, official) == want
    cov = reval.prompts(it, "coverage", prompt_set=official)[0]
    # coverage/state: REval leaves the first setUp line without its "# "
    assert f"\n[PYTHON]\n{it.code}\n\n# setup code executed previously\n{body[0]}\n# " in cov
    q = it.questions[0]
    assert cov.endswith(f"{snippet}\n[/PYTHON]\n[QUESTION]\nIs Line {q.lineno} "
                        f"({it.code.split(chr(10))[q.lineno - 1]}) "
                        "executed when the above test code is called?\n[/QUESTION]\n[ANSWER]")  # fmt: skip
    path = reval.prompts(it, "path", prompt_set=official)[0]
    assert f"# setup code executed previously\n# {body[0]}\n" in path
    assert "1\t" not in path.split("[PYTHON]")[-1]  # no line numbers for ClassEval
    out = reval.prompts(it, "output", prompt_set=official)[0]
    assert out.endswith(f"{rc.PRELUDE}{it.output_pred}\n[/PYTHON]\n[ANSWER]")
    (plain,) = [i for i in _classeval(reval_dir, (85,)) if i.input_idx == 0]
    assert reval.invocation(plain) == "\n" + plain.input.rstrip()
    ours = reval.prompts(it, "coverage")[0]  # stepcode's set: the setUp commented, its own words
    assert "setup code executed previously" not in ours and f"# {body[0]}\n" in ours
    assert ours.endswith("the test code above is run?\n[/QUESTION]\n[ANSWER]")


def test_answer_method_is_reval_transform() -> None:
    ans = "x = '''a\nassert b'''\nassertEqual(x, 1)"
    assert rc.answer_method(ans) == (
        "def dreval_output_pred(self):\n\tx = '''a\nself.assert b'''\n\tself.assertEqual(x, 1)"
    )


def test_hostile_classeval_output_answers_fail(reval_dir: Path) -> None:
    (it,) = [i for i in _classeval(reval_dir, (85,)) if i.input_idx == 0]
    good = reval.gold_outputs([it])[it.item_id]
    q = it.output_pred
    hostile = [
        q.replace("??", "True") + "\nassertTrue(True)",
        good.replace("assertAlmostEqual", "self.assertAlmostEqual"),  # -> self.self.assert...
        good.replace("assertAlmostEqual(", "assert (") + "",  # `self.assert (...)`: syntax error
        good + "\nraise SystemExit(0)",
        good + "\n__import__('os')._exit(0)",
        q,
        "",
        q.replace("??", "1e9"),
    ]
    results = reval.judge_outputs([it] * len(hostile), {it.item_id: good}, cot=False)
    assert all(r.correct for r in results)  # the gold answer itself passes
    for h in hostile:
        (r,) = reval.judge_outputs([it], {it.item_id: h}, cot=False)
        assert not r.correct, h


def test_missing_third_party_modules_skip_cleanly(reval_dir: Path, tmp_path: Path) -> None:
    data = (reval_dir / "DREval_data.jsonl").read_text().splitlines()
    prog = json.loads(data[85])
    prog["code"] = "import stepcode_no_such_module_xyz\n" + prog["code"]
    data[85] = json.dumps(prog)
    (tmp_path / "DREval_data.jsonl").write_text("\n".join(data) + "\n")
    tasks = (reval_dir / "DREval_tasks.jsonl").read_text()
    (tmp_path / "DREval_tasks.jsonl").write_text(tasks)
    n85 = len(json.loads(tasks.splitlines()[85])["tasks"])
    items, skipped = reval.load_reval(tmp_path, limit=87)
    _, base_skipped = reval.load_reval(reval_dir, limit=87)
    assert skipped == base_skipped + n85
    assert {it.idx for it in items if it.classeval is not None} == {86}
    assert rc.missing_modules("import os\nfrom numpy import array\nimport nope_xyz.sub") == [
        "nope_xyz"
    ]


@pytest.mark.parametrize("task", reval.TASKS)
def test_benchmark_protocol_scores_classeval(reval_dir: Path, task: str) -> None:
    """The ``Benchmark`` path (``stepcode eval run``): one prompt per question, gold scores 100 %."""
    from stepcode.eval.benchmarks import get_benchmark

    bench = get_benchmark(f"reval-{task}")
    items = [i for i in bench.load(str(reval_dir), limit=87) if reval_item(i).pair.idx == 86]
    prompts = [bench.prompt(it) for it in items]
    assert all(isinstance(p, str) for p in prompts)
    assert task == "output" or all("the test code above" in p for p in prompts)
    pairs = _classeval(reval_dir, (86,))
    _, gold = _gold(pairs)
    gens = {}
    for it in items:
        rec = reval_item(it)
        gens[it.item_id] = [gold[task][rec.pair.pair_id][rec.q or 0]]
    report = bench.score(items, gens)
    assert report.summary[f"{task}_acc"] == 100.0 and len(report.samples) == len(items)
    assert "classeval_skipped_missing_deps" in report.summary


@pytest.mark.slow
def test_score_cli_scores_classeval_logs(reval_dir: Path, tmp_path: Path) -> None:
    """``stepcode eval score --benchmark reval --mode all`` on official logs holding gold answers
    for two ClassEval programs: their samples are all correct (the HumanEval ones, left empty,
    are not, except coverage NO)."""
    from typer.testing import CliRunner

    from stepcode.cli import get_app

    items = _classeval(reval_dir, (85, 86))
    traces, gens = _gold(items)
    root = tmp_path / "model_generations"
    for task in reval.TASKS:
        recs: dict[int, dict] = {}
        for it in items:
            rec = recs.setdefault(it.idx, {"task_id": f"DREval/{it.idx}", "generation": []})
            results = [{"generated": g} for g in gens[task][it.item_id]]
            rec["generation"].append({"input_idx": it.input_idx, "results": results})
        (root / f"{task}@m").mkdir(parents=True)
        lines = [json.dumps(r) for r in recs.values()] + [json.dumps({"acc": 1.0})]
        (root / f"{task}@m" / "24-01-01-00-00.jsonl").write_text("\n".join(lines) + "\n")
    args = ["eval", "score", "--benchmark", "reval", "--mode", "all", "--generations", str(root),
            "--data", str(reval_dir), "--limit", "87", "--out", str(tmp_path / "r")]  # fmt: skip
    res = CliRunner().invoke(get_app(), args)
    assert res.exit_code == 0, res.output
    samples = [json.loads(x) for x in (tmp_path / "r" / "samples.jsonl").read_text().splitlines()]
    ours = {it.item_id for it in items}
    mine = [s for s in samples if s["item_id"].split(":")[0] in ours]
    assert len(mine) == sum(3 * len(it.questions) + 1 for it in items)
    assert all(s["correct"] for s in mine)
    others = [s for s in samples if s["item_id"].split(":")[0] not in ours]
    # empty answers: coverage reads them as NO (right for lines that never run), the rest fail
    assert not any(s["correct"] for s in others if not s["item_id"].endswith(":coverage"))
