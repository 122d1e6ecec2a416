"""REval HumanEval part: gold answers score 100 %, perturbed ones fail, parsing follows REval."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks import reval
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks.prompts import Field
from stepcode.eval.benchmarks.reval_data import reval_item
from stepcode.eval.benchmarks.reval_prompts import (
    RevalPrompts,
    official_prompts,
    parse_template,
    stepcode_prompts,
)
from stepcode.types import VarState


def _gold_run(reval_dir: Path, limit: int, mode: str = "official") -> tuple[list, list, dict]:
    items, _ = reval.load_reval(reval_dir, limit=limit)
    traces = reval.trace_items(items)
    gens = {
        t: {
            it.item_id: reval.gold_generations(it, tr, t, mode)  # type: ignore[arg-type]
            for it, tr in zip(items, traces, strict=True)
        }
        for t in reval.TASKS
    }
    return items, traces, gens


@pytest.mark.parametrize("mode", ["official", "strict"])
def test_gold_subset_scores_100(reval_dir: Path, mode: str) -> None:
    items, traces, gens = _gold_run(reval_dir, limit=8, mode=mode)
    summary, results = reval.score_reval(items, traces, gens, mode=mode)  # type: ignore[arg-type]
    assert [
        k
        for k in ("coverage_acc", "state_acc", "path_acc", "output_acc", "ic")
        if summary[k] != 100.0
    ] == []
    assert summary["coverage_n"] == sum(len(it.questions) for it in items)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["official", "strict"])
def test_gold_humaneval_part_scores_100(reval_dir: Path, mode: str) -> None:
    items, traces, gens = _gold_run(reval_dir, limit=85, mode=mode)
    assert len(items) == 396
    summary, _ = reval.score_reval(items, traces, gens, mode=mode)  # type: ignore[arg-type]
    assert summary["output_acc"] == 100.0 and summary["ic"] == 100.0
    assert summary["state_inexact"] == 0.0


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


@pytest.fixture(scope="module")
def official(reval_dir: Path) -> RevalPrompts:
    d = reval_dir / "prompts"
    if not (d / "direct_state.txt").is_file():
        pytest.skip("REval's official prompts are not present")
    return official_prompts(str(d))


def test_prompts_are_official(reval_dir: Path, official: RevalPrompts) -> None:
    """Every template, every question of a few pairs: the text REval's ``prompt.py`` builds
    (``str.format`` of its ``prompts/*.txt``), to the byte."""
    items, _ = reval.load_reval(reval_dir, limit=3)
    checked = 0
    for it in items:
        for cot in (False, True):
            for task in reval.TASKS:
                src = (
                    reval_dir / "prompts" / f"{'cot' if cot else 'direct'}_{task}.txt"
                ).read_text()
                want = [src.format(**v) for v in reval.prompt_values(it, task)]
                assert reval.prompts(it, task, cot, official) == want
                checked += len(want)
    assert checked == 2 * sum(3 * len(it.questions) + 1 for it in items)
    it = items[0]
    q = it.questions[0]
    p = reval.prompts(it, "coverage", prompt_set=official)[0]
    codeline = it.code.split("\n")[q.lineno - 1]
    inv = "has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)"
    assert p.endswith(
        f"[QUESTION]\nIs Line {q.lineno} ({codeline}) executed when {inv} is called?\n[/QUESTION]\n[ANSWER]"
    )
    assert "1\tfrom typing import List\n" in reval.prompts(it, "path", prompt_set=official)[0]
    assert reval.prompts(it, "output", prompt_set=official)[0].endswith(
        f"\n{it.output_pred}\n[/PYTHON]\n[ANSWER]"
    )


def test_default_prompts_are_stepcodes_own(reval_dir: Path) -> None:
    """The default set is stepcode's wording: none of REval's sentences, the same answer format."""
    items, _ = reval.load_reval(reval_dir, limit=1)
    it = items[0]
    ours = stepcode_prompts()
    assert ours.info["prompts"] == "stepcode"
    for cot in (False, True):
        for task in reval.TASKS:
            text = reval.prompts(it, task, cot)[0]
            assert it.code.split("\n")[0] in text and "[/ANSWER]" in text
            assert text.endswith("[THOUGHT]" if cot else "[ANSWER]")
            official = reval_dir / "prompts" / f"{'cot' if cot else 'direct'}_{task}.txt"
            if official.is_file():  # no sentence of REval's template is ours
                sentences = [x.strip() for x in official.read_text().split(". ") if len(x) > 40]
                assert not [x for x in sentences if x in text], task
    assert "Line 3" not in reval.prompts(it, "coverage")[0]


def test_official_prompts_are_found_and_recorded(reval_dir: Path, official: RevalPrompts,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from stepcode.eval.benchmarks import get_benchmark

    monkeypatch.delenv("STEPCODE_REVAL_HARNESS", raising=False)
    bench = get_benchmark("reval-state", prompts="official")
    items = bench.load(str(reval_dir), limit=1)  # found beside the data, as in a clone of REval
    assert bench.prompt_info == official.info and bench.prompt_info["prompts"] == "official"
    assert (
        bench.prompt(items[0])
        == reval.prompts(reval_item(items[0]).pair, "state", False, official)[0]
    )
    monkeypatch.setenv("STEPCODE_REVAL_HARNESS", str(reval_dir))
    assert get_benchmark("reval-path", prompts="official").prompt_info == official.info
    assert get_benchmark("reval-path").prompt_info["prompts"] == "stepcode"
    chat = get_benchmark("reval-state", prompt_style="chat").prompt(items[0])
    assert [m["role"] for m in chat] == ["system", "user"] and "[ANSWER]" in chat[1]["content"]
    if not (reval_dir / "inference.py").is_file():  # the copy holds no system message
        with pytest.raises(ConfigError, match="system message"):
            get_benchmark("reval-state", prompts="official", prompt_style="chat").prompt(items[0])
    monkeypatch.setenv("STEPCODE_REVAL_HARNESS", str(reval_dir / "nothing-here"))
    with pytest.raises(ConfigError, match="STEPCODE_REVAL_HARNESS|prompts"):
        get_benchmark("reval-path", prompts="official")


def test_template_fields_are_plain(tmp_path: Path) -> None:
    """A template is text and the six fields: no attribute or index reads into the values."""
    with pytest.raises(ConfigError, match="field"):
        parse_template("{code.__class__}", "x")
    with pytest.raises(ConfigError, match="field"):
        parse_template("{line!r}", "x")
    parts = parse_template("a {{b}} {line}", "x").parts
    assert parts == ("a {b} ", Field("line"))


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
        p.pair_id: reval.gold_generations(p, tr, task) for p, tr in zip(pairs, traces, strict=True)
    }
    gens = {}
    for it in items:
        rec = reval_item(it)
        gens[it.item_id] = [gold[rec.pair.pair_id][rec.q or 0]]
    report = bench.score(items, gens)
    assert report.summary[f"{task}_acc"] == 100.0 and len(report.samples) == len(items)


def test_adversarial_output_answers_fail(reval_dir: Path) -> None:
    items, _ = reval.load_reval(reval_dir, limit=1)
    it = items[0]
    q = it.output_pred
    hostile = ["assert True", q.replace("??", "True") + "\nassert True", "raise SystemExit(0)",
               q.split("==")[0] + "== __import__('os')._exit(0)", q, "", "[ANSWER]" + q.replace("??", "1e9")]  # fmt: skip
    results = reval.judge_outputs(
        [it] * len(hostile), {it.item_id: "x"}, cot=False
    )  # warm-up shape check
    assert len(results) == len(hostile)
    for h in hostile:
        (r,) = reval.judge_outputs([it], {it.item_id: h}, cot=False)
        assert not r.correct, h
