"""CRUXEval-O/-I: gold answers pass, perturbed/adversarial ones fail, prompts/extraction are official,
and item-level results agree with a faithful re-implementation of the official scorer."""

from __future__ import annotations

from pathlib import Path

import pytest
from official_reference import cruxeval_evaluate_score, pass_at_k

from stepcode.eval.benchmarks import get_benchmark
from stepcode.eval.benchmarks.assert_scoring import official_results
from stepcode.eval.benchmarks.base import EvalItem
from stepcode.eval.benchmarks.cruxeval import extract_cruxeval, load_cruxeval, score_generations


def _gold(items: list[EvalItem], mode: str) -> dict[str, list[str]]:
    if mode == "output":
        return {it.item_id: [it.data["output"]] for it in items}
    return {it.item_id: [f"f({it.data['input']})"] for it in items}


@pytest.mark.parametrize("mode", ["output", "input"])
def test_gold_all_800_scores_100(cruxeval_path: Path, mode: str) -> None:
    """All 800 (about 6 s per mode on 2 loaded cores, so in the default suite)."""
    items = load_cruxeval(str(cruxeval_path))
    assert len(items) == 800
    gens = _gold(items, mode)
    report = score_generations("c", mode, items, gens, gens, mode="official")
    failed = [s.item_id for s in report.samples if not s.correct]
    assert failed == [] and report.summary["pass@1"] == 100.0
    # the gold answers are values too: all of them pass the by-value check
    assert report.summary["pass@1_by_value"] == 100.0 and report.summary["official_only"] == 0


def _perturb(literal: str) -> str:
    return f"({literal}, 'perturbed')"


@pytest.mark.parametrize("mode", ["output", "input"])
def test_perturbed_answers_fail(cruxeval_path: Path, mode: str) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=60)
    if mode == "output":
        gens = {it.item_id: [_perturb(it.data["output"])] for it in items}
    else:
        gens = {it.item_id: [f"f({it.data['input']}, 'extra-arg-xyz')"] for it in items}
    report = score_generations("c", mode, items, gens, gens, mode="official")
    assert report.summary["pass@1"] == 0.0


ADVERSARIAL_OUTPUT = [
    "",
    "??",
    "import os; os._exit(0)",
    "__import__('os')._exit(0)",
    "1 or True",  # parsed as (gold == 1) or True: passes officially too
    "None\nimport sys; sys.exit(0)",
    "(lambda: (_ for _ in ()).throw(SystemExit(0)))()",
    "[0] * 10**10",
    "__import__('time').sleep(10)",
]


def test_adversarial_generations_fail(cruxeval_path: Path) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=1)
    item = items[0]
    gens = {item.item_id: ADVERSARIAL_OUTPUT + [f"f({item.data['input']})"]}
    report = score_generations("c", "output", items, gens, gens, mode="strict")
    by_gen = {s.generation: s for s in report.samples}
    # "1 or True" makes the assert itself pass: the official rule accepts it, and so do we; the
    # by-value reading rejects it and the summary says so
    assert by_gen["1 or True"].correct and by_gen["1 or True"].audit == "by_value:not_a_value"
    wrong = [s.generation for s in report.samples if s.correct and s.generation != "1 or True"]
    assert wrong == []
    assert by_gen[f"f({item.data['input']})"].skipped
    assert report.summary["official_only"] == 1.0 and report.summary["pass@1_by_value"] == 0.0


def _crafted(items: list[EvalItem], mode: str) -> dict[str, list[str]]:
    """Per item a mix: gold, copies of the call (skipped), wrong, malformed; some all-skipped."""
    out: dict[str, list[str]] = {}
    for n, it in enumerate(items):
        call = f"f({it.data['input']})"
        gold = it.data["output"] if mode == "output" else call
        wrong = _perturb(it.data["output"]) if mode == "output" else f"f({it.data['input']}, 0, 0)"
        skip = call if mode == "output" else it.data["input"] or "0"
        pattern = n % 5
        if pattern == 0:
            out[it.item_id] = [gold, skip, wrong, skip]
        elif pattern == 1:
            out[it.item_id] = [skip, skip, skip]
        elif pattern == 2:
            out[it.item_id] = [wrong, skip, "[[["]
        elif pattern == 3:
            out[it.item_id] = [gold] * 3 + [skip] * 3 + [wrong] * 4
        else:
            out[it.item_id] = [gold, wrong]
    return out


@pytest.mark.parametrize("mode", ["output", "input"])
def test_item_level_agreement_with_official(cruxeval_path: Path, mode: str) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=15)
    gens = _crafted(items, mode)
    report = score_generations("c", mode, items, gens, gens, mode="official")
    ours = official_results(items, report.samples, "official", "no_pass")
    ref = [cruxeval_evaluate_score(gens[it.item_id], it.data["code"], it.data["input"],
                                   it.data["output"], mode) for it in items]  # fmt: skip
    assert ours == ref
    ref_p1 = 100 * sum(pass_at_k(len(r), r.count(True), 1) for r in ref) / len(ref)
    ref_p5 = 100 * sum(pass_at_k(len(r), r.count(True), 5) for r in ref) / len(ref)
    assert report.summary["pass@1"] == pytest.approx(ref_p1)
    assert report.summary["pass@5"] == pytest.approx(ref_p5)


def test_strict_mode_counts_skips_as_failures(cruxeval_path: Path) -> None:
    items = load_cruxeval(str(cruxeval_path), limit=1)
    it = items[0]
    gens = {it.item_id: [it.data["output"], f"f({it.data['input']})"]}
    official = score_generations("c", "output", items, gens, gens, mode="official")
    strict = score_generations("c", "output", items, gens, gens, mode="strict")
    assert official.summary["pass@1"] == 100.0
    assert strict.summary["pass@1"] == 50.0
    assert any("dropped" in n for n in official.notes) and any("strict" in n for n in strict.notes)


def test_default_prompts_are_stepcodes_own_in_the_official_answer_format(
    cruxeval_path: Path,
) -> None:
    item = load_cruxeval(str(cruxeval_path), limit=1)[0]
    bench = get_benchmark("cruxeval-o")
    p = bench.prompt(item)
    assert isinstance(p, str) and bench.prompt_info["prompts"] == "stepcode"
    assert p.endswith(
        f"[PYTHON]\n{item.data['code']}\nassert f({item.data['input']}) == ??\n[/PYTHON]\n[ANSWER]\n"
    )
    pi = get_benchmark("cruxeval-i-cot").prompt(item)
    assert isinstance(pi, str) and pi.endswith(
        f"assert f(??) == {item.data['output']}\n[/PYTHON]\n[THOUGHT]\n"
    )
    assert get_benchmark("cruxeval-o").default_params["stop"] == ["[/ANSWER]"]
    chat = get_benchmark("cruxeval-o", prompt_style="chat").prompt(item)
    assert isinstance(chat, list) and chat[0]["role"] == "system" and chat[1]["content"] == p
    # the few-shot answers extract to the right values with the official rule
    shot = p.split("[ANSWER]\n")[1].split("\n[/ANSWER]")[0]
    assert extract_cruxeval(shot, "output", cot=False) == "11"


@pytest.mark.parametrize(
    ("generation", "mode"),
    [("6 or True", "output"), ("print('[PASS]') or 6", "output"), ("(6, exit())[0]", "output"),
     ("f(3) or True", "input"), ("f(*[3]) if print('x') is None else 0", "input")],
)  # fmt: skip
def test_answers_that_pass_only_as_code_are_listed(generation: str, mode: str) -> None:
    """The official check runs ``assert 6 == {g}``: these pass it; as values they do not."""
    from stepcode.eval.benchmarks.assert_scoring import official_only

    item = EvalItem(item_id="sample_0", data={"code": "def f(x):\n    return x * 2",
                                              "input": "3", "output": "6"})  # fmt: skip
    honest = "6" if mode == "output" else "f(3)"
    gens = {"sample_0": [generation, honest]}
    report = score_generations("c", mode, [item], gens, gens, mode="official")
    hostile, good = report.samples
    if generation != "(6, exit())[0]":  # exit() stops the official assert too
        assert hostile.correct and report.summary["pass@1"] == 100.0
        assert official_only(report.samples) == [hostile] and report.summary["official_only"] == 1
        assert report.summary["pass@1_by_value"] == 50.0
    assert hostile.audit.startswith("by_value:") and hostile.audit != "by_value:pass"
    assert good.correct and good.audit == "by_value:pass"


@pytest.mark.parametrize(
    ("gen", "mode", "cot", "expected"),
    [
        ("assert f(17) == 17\n", "output", False, "17"),
        ("assert f('a') == 'b'[/ANSWER] junk", "output", False, "'b'"),
        ("think... [ANSWER]\nassert f(1) == [1, 2]\n[/ANSWER]", "output", True, "[1, 2]"),
        ("[1, 2]", "output", False, "[1, 2]"),
        ("assert f(16) == 17", "input", False, "f(16)"),
        ("blah [ANSWER] assert f([1], 2) == 3 [/ANSWER]", "input", True, "f([1], 2)"),
        ("f(3)", "input", False, "f(3)"),
    ],
)
def test_extraction_official(gen: str, mode: str, cot: bool, expected: str) -> None:
    assert extract_cruxeval(gen, mode, cot) == expected


def test_a_truncated_benchmark_file_fails_loudly(tmp_path: Path) -> None:
    """Benchmark data is read strictly: a cut last line is an error, not a silently shorter set."""
    from stepcode.errors import DataError
    from stepcode.io import read_jsonl

    good = '{"id": "sample_0", "code": "def f(x):\\n    return x", "input": "1", "output": "1"}\n'
    path = tmp_path / "cruxeval.jsonl"
    path.write_text(good + good.replace("sample_0", "sample_1")[:30])
    assert len(list(read_jsonl(path))) == 1  # logs tolerate a writer killed mid-line
    with pytest.raises(DataError, match=r"cruxeval.jsonl:2"):
        load_cruxeval(str(path))
    path.write_text(good)
    assert [i.item_id for i in load_cruxeval(str(path))] == ["sample_0"]
