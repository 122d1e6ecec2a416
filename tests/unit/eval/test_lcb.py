"""LiveCodeBench code execution on a local fixture in the execution-v2 schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from official_reference import lcb_evaluate_score, pass_at_k

from stepcode.errors import DataError
from stepcode.eval.benchmarks import get_benchmark
from stepcode.eval.benchmarks.assert_scoring import official_results
from stepcode.eval.benchmarks.lcb import BASE_IMPORTS, extract_lcb, load_lcb

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lcb_execution_sample.jsonl"


def test_load_sorts_by_id_number() -> None:
    items = load_lcb(str(FIXTURE))
    assert [it.item_id for it in items] == [f"sample_{i}" for i in range(8)]
    assert "=" in items[0].data["input"]  # keyword calls, as in the real data


def test_gold_scores_100_and_perturbed_0() -> None:
    bench = get_benchmark("lcb")
    items = bench.load(str(FIXTURE))
    gold = {it.item_id: [f"assert {it.data['input']} == {it.data['output']}"] for it in items}
    summary = bench.score(items, gold).summary
    assert summary["pass@1"] == 100.0 and summary["pass@1_by_value"] == 100.0
    bad = {it.item_id: [f"{it.data['output']} + 1 if False else None"] for it in items}
    assert bench.score(items, bad).summary["pass@1"] == 0.0
    # an answer that runs the program's own call passes as code, never as a value
    hostile = {it.item_id: [f"{it.data['output']} or True"] for it in items}
    report = bench.score(items, hostile)
    assert report.summary["pass@1"] == 100.0 and report.summary["pass@1_by_value"] == 0.0
    assert report.summary["official_only"] == len(items)


def test_base_imports_bind_what_the_official_block_binds() -> None:
    """Our import table against LiveCodeBench's ``BASE_IMPORTS`` in the user's copy of the harness
    (``STEPCODE_LCB_HARNESS``; skipped without one): the same names, the same objects."""
    import os

    pytest.importorskip("pandas")
    root = os.environ.get("STEPCODE_LCB_HARNESS")
    src = Path(root or "/nonexistent") / "lcb_runner" / "evaluation" / "utils_execute.py"
    if not src.is_file():
        pytest.skip("no LiveCodeBench harness copy with lcb_runner/evaluation/utils_execute.py")
    import ast

    tree = ast.parse(src.read_text(encoding="utf-8"))
    block = next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
                 and getattr(n.targets[0], "id", "") == "BASE_IMPORTS")  # fmt: skip
    theirs: dict = {}
    ours: dict = {}
    exec(block, theirs)  # noqa: S102 - import statements of the official harness, in a test
    exec(BASE_IMPORTS, ours)  # noqa: S102
    theirs.pop("__builtins__"), ours.pop("__builtins__")
    assert sorted(theirs) == sorted(ours)
    assert [k for k in theirs if theirs[k] is not ours[k]] == []


def test_base_imports_available_to_the_program() -> None:
    # minimumSum uses ``inf`` from BASE_IMPORTS without importing it (needs numpy/pandas too)
    pytest.importorskip("numpy")
    pytest.importorskip("pandas")
    items = load_lcb(str(FIXTURE), limit=1)
    assert "inf" in items[0].data["code"] and "from math import" not in items[0].data["code"]
    r = get_benchmark("lcb").score(items, {items[0].item_id: [items[0].data["output"]]})
    assert r.summary["pass@1"] == 100.0


@pytest.mark.slow
def test_item_level_agreement_with_official() -> None:
    """Slow: every reference check imports numpy + pandas (BASE_IMPORTS) in a fresh interpreter."""
    pytest.importorskip("pandas")
    items = load_lcb(str(FIXTURE))
    gens: dict[str, list[str]] = {}
    for n, it in enumerate(items):
        gold, call = it.data["output"], it.data["input"]
        copy = f"{call}"
        pattern = n % 4
        gens[it.item_id] = [
            [gold, copy, "0", "((("],
            [copy, copy],  # all skipped -> [False] * 2
            ["0", "None", copy],  # kept but none pass: stays short (LCB differs from CRUXEval)
            [gold, gold, gold],
        ][pattern]
    bench = get_benchmark("lcb")
    extracted = {k: [extract_lcb(g, cot=False) for g in gs] for k, gs in gens.items()}
    report = bench.score(items, gens)
    ours = official_results(items, report.samples, "official", "empty")
    ref = [lcb_evaluate_score(extracted[it.item_id], it.data["code"], it.data["input"],
                              it.data["output"], BASE_IMPORTS, 30.0) for it in items]  # fmt: skip
    assert ours == ref
    assert [len(r) for r in ref[:3]] == [3, 2, 2]
    expected = 100 * sum(pass_at_k(len(r), r.count(True), 1) for r in ref) / len(ref)
    assert report.summary["pass@1"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("gen", "cot", "expected"),
    [
        ("assert f(a = 1) == 3\n[/ANSWER]", False, "3"),
        ("assert f(a = 1) == [1, 2]\nmore text", False, "[1, 2]"),
        ("I think [ANSWER]assert f(a = 1) == 'x'[/ANSWER]", True, "'x'"),
        ("17", False, "17"),
    ],
)
def test_extraction_official(gen: str, cot: bool, expected: str) -> None:
    assert extract_lcb(gen, cot) == expected


def test_prompt_and_bad_data(tmp_path: Path) -> None:
    item = load_lcb(str(FIXTURE), limit=1)[0]
    p = get_benchmark("lcb").prompt(item)
    assert isinstance(p, str) and get_benchmark("lcb").prompt_info["prompts"] == "stepcode"
    assert p.endswith(
        f"{item.data['code']}\nassert {item.data['input']} == ??\n[/PYTHON]\n[ANSWER]\n"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"code": "x"}\n')
    with pytest.raises(DataError, match="missing"):
        load_lcb(str(bad))
    with pytest.raises(DataError, match="not found"):
        load_lcb(str(tmp_path / "nope.jsonl"))
