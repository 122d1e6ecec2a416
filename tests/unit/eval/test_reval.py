"""REval HumanEval part: gold answers score 100 %, perturbed ones fail, parsing follows REval."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepcode.eval.benchmarks import reval
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.types import VarState


def _gold_run(reval_dir: Path, limit: int) -> tuple[list, list, dict]:
    items, _ = reval.load_reval(reval_dir, limit=limit)
    traces = reval.trace_items(items)
    gens = {
        t: {
            it.item_id: reval.gold_generations(it, tr, t)
            for it, tr in zip(items, traces, strict=True)
        }
        for t in reval.TASKS
    }
    return items, traces, gens


def test_gold_subset_scores_100(reval_dir: Path) -> None:
    items, traces, gens = _gold_run(reval_dir, limit=8)
    summary, results = reval.score_reval(items, traces, gens)
    assert [
        k
        for k in ("coverage_acc", "state_acc", "path_acc", "output_acc", "ic")
        if summary[k] != 100.0
    ] == []
    assert summary["coverage_n"] == sum(len(it.data["questions"]) for it in items)


@pytest.mark.slow
def test_gold_humaneval_part_scores_100(reval_dir: Path) -> None:
    items, traces, gens = _gold_run(reval_dir, limit=85)
    assert len(items) == 396
    summary, _ = reval.score_reval(items, traces, gens)
    assert summary["output_acc"] == 100.0 and summary["ic"] == 100.0


def _perturb(task: str, gen: str) -> str:
    ans = gen.removesuffix("\n[/ANSWER]")
    if task == "coverage":
        return "NO" if ans == "YES" else "YES"
    if task == "path":
        return "return 'no such line'"
    if task == "state":
        return "Nil" if ans != "Nil" else "0; int"
    return ans.replace("==", "!=")


def test_perturbed_answers_fail(reval_dir: Path) -> None:
    items, traces, gold = _gold_run(reval_dir, limit=8)
    bad = {t: {k: [_perturb(t, g) for g in gs] for k, gs in per.items()} for t, per in gold.items()}
    summary, _ = reval.score_reval(items, traces, bad)
    for t in reval.TASKS:
        assert summary[f"{t}_acc"] == 0.0, t
    assert summary["ic"] == 0.0


def test_prompts_are_official(reval_dir: Path) -> None:
    items, _ = reval.load_reval(reval_dir, limit=1)
    it = items[0]
    q = it.data["questions"][0]
    p = reval.prompts(it, "coverage")[0]
    codeline = it.data["code"].split("\n")[q["lineno"] - 1]
    inv = "has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)"
    assert p.endswith(
        f"[QUESTION]\nIs Line {q['lineno']} ({codeline}) executed when {inv} is called?\n[/QUESTION]\n[ANSWER]"
    )
    assert "1\tfrom typing import List\n" in reval.prompts(it, "path")[0]
    assert reval.prompts(it, "output")[0].endswith(
        f"\n{it.data['output_pred']}\n[/PYTHON]\n[ANSWER]"
    )


@pytest.mark.parametrize(
    ("resp", "cot", "expected"),
    [("YES", False, True), ("no", False, False), ("YES NO", False, True), ("MAYBE", False, False), ("", False, False),
     ("[ANSWER]\nYes, it is\n[/ANSWER]", False, True), ("YES", True, False),
     ("thinking [/THOUGHT] [ANSWER] YES [/ANSWER]", True, True)],
)  # fmt: skip
def test_coverage_parsing(resp: str, cot: bool, expected: bool) -> None:
    assert ra.parse_coverage(resp, cot) is expected


@pytest.mark.parametrize(
    ("resp", "expected"),
    [("3; int", (3, "int")), ("'a'; <class 'str'>", ("a", "str")), ("hello; string", ("hello", "str")),
     ("[1, 2]; List[int]", ([1, 2], "list")), ("(1, 2); tuple[int, int]", ((1, 2), "tuple")),
     ("Nil", ra.NIL), ("nil; NoneType", ra.NIL), ("None; NoneType", (None, "NoneType")),
     ("no semicolon", ra.ERROR), ("__import__('os').system('x'); int", ra.ERROR)],
)  # fmt: skip
def test_state_parsing(resp: str, expected: object) -> None:
    assert ra.parse_state(resp, cot=False) == expected


def test_state_equality_rules() -> None:
    f = [VarState(repr="0.30000000000000004", type="float")]
    assert ra.state_equal((0.3, "float"), f)
    assert not ra.state_equal((0.31, "float"), f)
    assert not ra.state_equal((0, "float"), f)  # value's own type must be the declared one
    assert not ra.state_equal((1, "bool"), [VarState(repr="1", type="int")])
    assert ra.state_equal(
        (True, "bool"), [VarState(repr="False", type="bool"), VarState(repr="True", type="bool")]
    )
    assert (
        ra.state_equal(ra.NIL, None)
        and not ra.state_equal(ra.NIL, f)
        and not ra.state_equal((1, "int"), None)
    )
    assert not ra.state_equal(ra.ERROR, f)


def test_path_parsing_maps_source_to_every_equal_line() -> None:
    lines = ["def f(x):", "    x += 1", "    x += 1", "    return x"]
    assert ra.parse_path("x += 1", False, lines) == [2, 3]
    assert ra.parse_path("-1", False, lines) == [-1]
    assert ra.parse_path("", False, lines) == [-2]
    assert ra.parse_path("nothing", False, lines) == [-2]


def test_output_padding_and_penalties() -> None:
    q = "x = 1\nassert f(x) == ??"
    assert ra.pad_output("assert f(x) == 2", q) == "x = 1\nassert f(x) == 2"
    assert ra.penalised("assert True", "assert f(1) == ??")
    assert ra.penalised("f(1)", "assert f(1) == ??")
    assert ra.pad_output(ra.ERROR, q) == "assert False"


@pytest.mark.parametrize(
    ("cspo", "score"),
    [((1, 1, 1, 1), 1.0), ((1, 1, 1, 0), 0.5), ((1, 1, 0, 0), 0.25), ((1, 0, 0, 0), 0.125),
     ((1, 0, 1, 1), 0.0), ((0, 1, 1, 1), 0.0), ((1, 1, 0, 1), 0.0)],
)  # fmt: skip
def test_incremental_consistency_table(cspo: tuple[int, ...], score: float) -> None:
    assert reval.ic_score(*map(bool, cspo)) == score


@pytest.mark.parametrize("task", ["coverage", "state", "path", "output"])
def test_benchmark_protocol_round_trip(reval_dir: Path, task: str) -> None:
    from stepcode.eval.benchmarks import get_benchmark

    bench = get_benchmark(f"reval-{task}")
    items = bench.load(str(reval_dir), limit=3)
    assert all(isinstance(bench.prompt(it), str) for it in items)
    pairs, _ = reval.load_reval(reval_dir, limit=3)
    traces = reval.trace_items(pairs)
    gold = {
        p.item_id: reval.gold_generations(p, tr, task) for p, tr in zip(pairs, traces, strict=True)
    }
    gens = {
        it.item_id: [gold[it.data.get("pair_id", it.item_id)][it.data.get("q", 0)]] for it in items
    }
    report = bench.score(items, gens)
    assert report.summary[f"{task}_acc"] == 100.0 and len(report.samples) == len(items)


def test_adversarial_output_answers_fail(reval_dir: Path) -> None:
    items, _ = reval.load_reval(reval_dir, limit=1)
    it = items[0]
    q = it.data["output_pred"]
    hostile = ["assert True", q.replace("??", "True") + "\nassert True", "raise SystemExit(0)",
               q.split("==")[0] + "== __import__('os')._exit(0)", q, "", "[ANSWER]" + q.replace("??", "1e9")]  # fmt: skip
    results = reval.judge_outputs(
        [it] * len(hostile), {it.item_id: "x"}, cot=False
    )  # warm-up shape check
    assert len(results) == len(hostile)
    for h in hostile:
        (r,) = reval.judge_outputs([it], {it.item_id: h}, cot=False)
        assert not r.correct, h
