"""Aligned CRUXEval variants: gold traces score 100/100, wrong steps open the gap, wrong answers fail."""

from __future__ import annotations

import json
import re

import pytest

from stepcode.eval.benchmarks.aligned import AlignedCRUXEval
from stepcode.eval.harness import resolve_benchmark
from stepcode.tasks.build import sft_target
from stepcode.types import Task

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
    gold = {i.item_id: sft_target(Task.from_dict(i.data["task"])) for i in items}
    assert "<trace>" in gold["sample_0"] and isinstance(bench.prompt(items[0]), str)
    rep = bench.score(items, {k: [v] for k, v in gold.items()})
    s = rep.summary
    assert (s["final_accuracy"], s["step_accuracy"], s["gap"]) == (100.0, 100.0, 0.0)
    assert s["right_answer_wrong_steps"] == 0.0
    bad_steps = {k: [_wrong_first_step(v)] for k, v in gold.items()}
    assert bad_steps != {k: [v] for k, v in gold.items()}
    s = bench.score(items, bad_steps).summary
    assert s["final_accuracy"] == 100.0 and s["step_accuracy"] < 100.0 and s["gap"] > 0
    assert s["right_answer_wrong_steps"] == 100.0
    junk = bench.score(items, {k: ["I think it is 5", ""] for k in gold})
    assert junk.summary["final_accuracy"] == 0.0 and len(junk.samples) == 4
    assert all(not x.correct and x.reason for x in junk.samples)
