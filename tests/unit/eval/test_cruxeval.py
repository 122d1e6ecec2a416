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
    # "1 or True" makes the assert itself pass: the official rule accepts it, and so do we
    assert by_gen["1 or True"].correct
    wrong = [s.generation for s in report.samples if s.correct and s.generation != "1 or True"]
    assert wrong == []
    assert by_gen[f"f({item.data['input']})"].skipped


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


def test_prompts_are_official(cruxeval_path: Path) -> None:
    item = load_cruxeval(str(cruxeval_path), limit=1)[0]
    p = get_benchmark("cruxeval-o").prompt(item)
    assert isinstance(p, str)
    assert p.endswith(
        f"[PYTHON]\n{item.data['code']}\nassert f({item.data['input']}) == ??\n[/PYTHON]\n[ANSWER]\n"
    )
    assert 'assert f("x9j") == "x9ja"' in p
    pi = get_benchmark("cruxeval-i-cot").prompt(item)
    assert isinstance(pi, str) and pi.endswith(
        f"assert f(??) == {item.data['output']}\n[/PYTHON]\n[THOUGHT]\n"
    )
    assert get_benchmark("cruxeval-o").default_params["stop"] == ["[/ANSWER]"]
    chat = get_benchmark("cruxeval-o", prompt_style="chat").prompt(item)
    assert isinstance(chat, list) and chat[0]["role"] == "system"


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
