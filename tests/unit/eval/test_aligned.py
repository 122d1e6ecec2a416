"""Aligned CRUXEval variants: gold traces score 100/100, wrong steps open the gap, wrong answers fail."""

from __future__ import annotations

import json
import re

import pytest

from stepcode.errors import DataError
from stepcode.eval.benchmarks.aligned import AlignedCRUXEval
from stepcode.eval.harness import resolve_benchmark
from stepcode.tasks.build import sft_target

ROWS = [
    {"id": "sample_0", "code": "def f(x):\n    y = x * 2\n    z = y + 1\n    return z",
     "input": "3", "output": "7"},
    {"id": "sample_1", "code": "def f(s):\n    t = s[::-1]\n    return t + s",
     "input": "'ab'", "output": "'baab'"},
]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    p = tmp_path_factory.mktemp("a") / "crux.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return str(p)


def _wrong_first_step(text: str) -> str:
    """Change the value on the first trace line (keeps the answer)."""
    return re.sub(r"(<trace>\n[^:\n]+: )([^\n]+)", lambda m: m.group(1) + "-12345", text, count=1)


@pytest.mark.parametrize("mode", ["output", "input"])
def test_gold_wrong_steps_and_wrong_answers(data, mode):
    bench = resolve_benchmark(f"cruxeval-{mode[0]}-aligned")
    assert isinstance(bench, AlignedCRUXEval) and bench.name.endswith("-aligned")
    items = bench.load(data)
    assert [i.item_id for i in items] == ["sample_0", "sample_1"]
    gold = {i.item_id: sft_target(i.data["task"]) for i in items}
    assert "<trace>" in gold["sample_0"] and isinstance(bench.prompt(items[0]), str)
    rep = bench.score(items, {k: [v] for k, v in gold.items()})
    s = rep.summary
    assert (s["final_acc"], s["step_acc"], s["gap"], s["pass@1"]) == (1.0, 1.0, 0.0, 100.0)
    assert s["right_answer_wrong_steps"] == 0.0 and s["format_ok"] == 1.0
    assert all(x.steps and set(x.steps) == {1.0} for x in rep.samples)
    assert {x.audit for x in rep.samples} == {"right_answer_right_steps"}
    bad_steps = {k: [_wrong_first_step(v)] for k, v in gold.items()}
    assert bad_steps != {k: [v] for k, v in gold.items()}
    bad = bench.score(items, bad_steps)
    s = bad.summary
    assert s["final_acc"] == 1.0 and s["step_acc"] < 1.0 and s["gap"] > 0
    assert s["right_answer_wrong_steps"] == 1.0
    assert all(x.steps[0] == 0.0 and x.audit == "right_answer_wrong_steps" for x in bad.samples)
    junk = bench.score(items, {k: ["I think it is 5", ""] for k in gold})
    assert junk.summary["final_acc"] == 0.0 and len(junk.samples) == 4
    assert all(not x.correct and x.reason and x.extracted is None for x in junk.samples)


def test_the_summary_is_rewards_summarize_of_score_batch(data):
    """One metric: the benchmark's numbers are ``summarize(score_batch(tasks, completions))``."""
    from stepcode.rewards import score_batch
    from stepcode.rewards.summary import summarize

    bench = resolve_benchmark("cruxeval-o-aligned")
    items = bench.load(data)
    tasks = [i.data["task"] for i in items]
    comps = [_wrong_first_step(sft_target(tasks[0])), sft_target(tasks[1])]
    rep = bench.score(items, {i.item_id: [c] for i, c in zip(items, comps, strict=True)})
    expected = summarize(score_batch(tasks, comps)).as_dict()
    assert {k: rep.summary[k] for k in expected} == expected
    assert 0 < expected["right_answer_wrong_steps"] < 1


def test_a_task_file_is_evaluated_as_it_is(tmp_path, data):
    """A stepcode task JSONL (what a training run keeps in data/eval.jsonl) gives the same tasks."""
    from stepcode.io import write_jsonl

    bench = resolve_benchmark("cruxeval-o-aligned")
    built = [i.data["task"] for i in bench.load(data)]
    path = tmp_path / "eval.jsonl"
    write_jsonl(path, [t.to_dict() for t in built])
    items = bench.load(str(path))
    assert [i.data["task"] for i in items] == built and [i.item_id for i in items] == [
        t.task_id for t in built
    ]
    assert bench.prompt(items[0]) == built[0].prompt
    with pytest.raises(DataError, match="is output_aligned, not input_aligned"):
        resolve_benchmark("cruxeval-i-aligned").load(str(path))
